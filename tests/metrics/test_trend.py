"""GET /metrics/trend: a least-squares line through every point of the period (however many),
null with fewer than two points, stable within ±1 %."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import User, anonymous_user
from tests.metrics.helpers import TREND, assert_problem, bulk_insert, ok, record, store_many


async def trend(client: httpx.AsyncClient, user: User, metric_type: str, period_days: int = 7) -> object:
    return ok(
        await client.get(TREND, headers=user.headers, params={"metric_type": metric_type, "period_days": period_days})
    )


def least_squares_slope(points: Sequence[tuple[datetime, float]]) -> float:
    """Slope per day of the least-squares line through the points."""
    origin = points[0][0]
    xs = [(at - origin).total_seconds() / 86400 for at, _ in points]
    ys = [value for _, value in points]
    n = len(points)
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True))
    variance = sum((x - mean_x) ** 2 for x in xs)
    return covariance / variance


async def test_trend_is_null_with_fewer_than_two_points(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    assert await trend(client, user, "weight_kg") is None
    await record(client, user, "weight_kg", 80.0, timestamp=clock.now() - timedelta(days=2))
    assert await trend(client, user, "weight_kg") is None
    await record(client, user, "weight_kg", 79.0, timestamp=clock.now() - timedelta(days=1))
    assert await trend(client, user, "weight_kg") is not None


async def test_trend_of_a_straight_line_reports_its_slope_and_change(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await store_many(app, user, [("weight_kg", 80.0 - day, clock.now() - timedelta(days=4 - day)) for day in range(5)])
    body = await trend(client, user, "weight_kg")
    assert body == {
        "direction": "down",
        "change_absolute": -4.0,
        "change_percent": -5.0,
        "slope_per_day": -1.0,
        "period_days": 7,
        "start_value": 80.0,
        "end_value": 76.0,
        "fitted_start_value": 80.0,
        "fitted_end_value": 76.0,
        "first_value": 80.0,
        "last_value": 76.0,
        "data_points": 5,
    }


async def test_trend_of_a_dense_series_fits_every_point_of_the_period(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """1 500 points in 30 days: a climb over the first third, then a plateau, and a last reading
    below the first. First against last says "down"; the newest 1 000 points alone are flat; the
    whole period climbs."""
    user = await anonymous_user(app)
    count, step = 1500, timedelta(seconds=30 * 86400 // 1500)
    start = clock.now() - timedelta(days=30)
    series: list[tuple[datetime, float]] = []
    for i in range(count):
        value = 60.0 + 20.0 * min(i, 500) / 500  # 60 → 80, then 80
        series.append((start + i * step, value))
    series[-1] = (series[-1][0], 55.0)  # a last reading below the first one
    await bulk_insert(app, user, [("health_resting_hr", value, at) for at, value in series])

    body = await trend(client, user, "health_resting_hr", period_days=30)
    assert isinstance(body, dict)
    assert body["data_points"] == count
    assert (body["first_value"], body["last_value"]) == (60.0, 55.0)
    assert body["direction"] == "up"
    assert body["slope_per_day"] == pytest.approx(least_squares_slope(series), abs=1e-3)
    assert body["slope_per_day"] > 0.4
    assert least_squares_slope(series[-1000:]) < 0.05  # what a truncated fit would have said
    assert (body["start_value"], body["end_value"]) == (60.0, 55.0)  # the real first and last readings
    assert body["change_absolute"] == pytest.approx(body["fitted_end_value"] - body["fitted_start_value"], abs=0.02)


async def test_many_readings_on_one_day_do_not_fake_a_stable_trend(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """80 kg, then forty scale readings of 80 kg on one day, then 78 kg: fitted point by point the
    forty readings pin the line flat ("stable", -0.7 %); one point per day says "down"."""
    user = await anonymous_user(app)
    start = clock.now() - timedelta(days=7)
    readings = [(start + timedelta(days=0.5), 80.0)]
    readings += [(start + timedelta(days=5 + 0.02 * i), 80.0) for i in range(40)]
    readings += [(start + timedelta(days=6.5), 78.0)]
    await bulk_insert(app, user, [("weight_kg", value, at) for at, value in readings])

    body = await trend(client, user, "weight_kg")

    assert isinstance(body, dict)
    assert body["direction"] == "down"
    assert (body["start_value"], body["end_value"]) == (80.0, 78.0)
    assert body["data_points"] == 42


async def test_readings_of_a_single_day_make_no_trend(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    day = clock.now() - timedelta(days=2)
    await store_many(app, user, [("weight_kg", 80.0, day), ("weight_kg", 79.0, day + timedelta(hours=3))])
    assert await trend(client, user, "weight_kg") is None


@pytest.mark.parametrize(("end_value", "direction"), [(80.7, "stable"), (79.3, "stable"), (81.0, "up"), (79.0, "down")])
async def test_trend_is_stable_within_one_percent(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, end_value: float, direction: str
) -> None:
    user = await anonymous_user(app)
    await record(client, user, "weight_kg", 80.0, timestamp=clock.now() - timedelta(days=3))
    await record(client, user, "weight_kg", end_value, timestamp=clock.now() - timedelta(days=1))
    body = await trend(client, user, "weight_kg")
    assert isinstance(body, dict)
    assert body["direction"] == direction
    assert body["change_percent"] == pytest.approx((end_value - 80.0) / 80.0 * 100, abs=0.01)


async def test_trend_counts_only_points_inside_the_period(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    now = clock.now()
    await store_many(
        app,
        user,
        [
            ("weight_kg", 200.0, now - timedelta(days=7, seconds=1)),  # just before the period
            ("weight_kg", 80.0, now - timedelta(days=7)),  # its first instant
            ("weight_kg", 79.0, now),  # its last instant
            ("weight_kg", 300.0, now + timedelta(minutes=3)),  # after now
        ],
    )
    body = await trend(client, user, "weight_kg", period_days=7)
    assert isinstance(body, dict)
    assert body["data_points"] == 2
    assert (body["first_value"], body["last_value"]) == (80.0, 79.0)
    assert body["slope_per_day"] == pytest.approx(-1 / 7, abs=1e-4)
    wider = await trend(client, user, "weight_kg", period_days=8)
    assert isinstance(wider, dict)
    assert wider["data_points"] == 3


async def test_trend_uses_only_the_callers_points(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    me, other = await anonymous_user(app), await anonymous_user(app)
    await record(client, me, "weight_kg", 80.0, timestamp=clock.now() - timedelta(days=2))
    await record(client, other, "weight_kg", 90.0, timestamp=clock.now() - timedelta(days=1))
    assert await trend(client, me, "weight_kg") is None


@pytest.mark.parametrize("period_days", [0, 366, "week"])
async def test_trend_period_outside_1_to_365_days_is_refused(
    app: FastAPI, client: httpx.AsyncClient, period_days: int | str
) -> None:
    user = await anonymous_user(app)
    response = await client.get(
        TREND, headers=user.headers, params={"metric_type": "weight_kg", "period_days": period_days}
    )
    assert_problem(response, 422, "VALIDATION_ERROR")
