"""The metrics interface other modules use (coach, health sync, bloodwork uploads): newest values
in one query, trends, and every read of health data recorded where the person can see it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from src.core.uow import UnitOfWork
from src.modules.metrics import InvalidMetric, Measurement, Metric, MetricSource, MetricTrend, metrics
from tests.factories import User, anonymous_user
from tests.metrics.helpers import FEED, HISTORY, counting_statements, in_unit_of_work, ok, record, utc


async def privacy_feed(client: httpx.AsyncClient, user: User) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ok(await client.get(FEED, headers=user.headers, params={"category": "privacy"}))
    return rows


async def latest_values(app: FastAPI, user: User, metric_types: list[str]) -> tuple[dict[str, Metric], int]:
    """What the coach gets, and how many statements read the metrics table for it."""

    async def work(uow: UnitOfWork) -> dict[str, Metric]:
        return await metrics(uow).latest_values(uuid.UUID(user.id), metric_types, accessed_by="coach")

    with counting_statements(app) as log:
        found = await in_unit_of_work(app, work)
    reads = [s for s in log.touching("metrics") if s.lstrip().upper().startswith("SELECT")]
    return found, len(reads)


async def test_latest_values_gives_the_newest_of_each_type_in_one_query(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await record(client, user, "weight_kg", 81.0, timestamp=utc(3, 9, 7))
    await record(client, user, "weight_kg", 80.0, timestamp=utc(3, 8, 7))
    await record(client, user, "sleep_hours", 6.5, timestamp=utc(3, 7, 7))
    await record(client, user, "sleep_hours", 7.5, timestamp=utc(3, 9, 7), source="device_sync")
    await record(client, user, "steps", 5000, timestamp=utc(3, 9, 7))
    found, reads = await latest_values(app, user, ["weight_kg", "sleep_hours", "health_hrv"])
    assert {name: m.value for name, m in found.items()} == {"weight_kg": 81.0, "sleep_hours": 7.5}
    assert reads == 1


async def test_latest_values_never_include_another_persons_data(app: FastAPI, client: httpx.AsyncClient) -> None:
    me, other = await anonymous_user(app), await anonymous_user(app)
    await record(client, other, "weight_kg", 99.0)
    found, _ = await latest_values(app, me, ["weight_kg"])
    assert found == {}


async def test_latest_values_read_is_recorded_in_the_privacy_feed(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await record(client, user, "weight_kg", 81.0)
    assert await privacy_feed(client, user) == []
    await latest_values(app, user, ["weight_kg", "biomarker_ldl"])
    [item] = await privacy_feed(client, user)
    assert item["event_type"] == "health_data_accessed"
    assert item["metadata"]["accessed_by"] == "coach"
    assert item["metadata"]["metric_types"] == ["biomarker_ldl", "weight_kg"]


async def test_trend_for_gives_the_trend_and_records_the_read(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    for days_ago, value in ((20, 84.0), (10, 82.0), (1, 80.2)):
        await record(client, user, "weight_kg", value, timestamp=clock.now() - timedelta(days=days_ago))

    async def work(uow: UnitOfWork) -> MetricTrend | None:
        return await metrics(uow).trend_for(uuid.UUID(user.id), "weight_kg", period_days=30, accessed_by="coach")

    found = await in_unit_of_work(app, work)
    assert found is not None
    assert (found.direction, found.data_points, found.period_days) == ("down", 3, 30)
    assert found.slope_per_day == pytest.approx(-0.2, abs=0.01)
    [item] = await privacy_feed(client, user)
    assert item["event_type"] == "health_data_accessed"
    assert (item["metadata"]["accessed_by"], item["metadata"]["metric_types"]) == ("coach", ["weight_kg"])


async def test_trend_for_without_enough_data_is_none_and_still_recorded(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)

    async def work(uow: UnitOfWork) -> MetricTrend | None:
        return await metrics(uow).trend_for(uuid.UUID(user.id), "weight_kg", period_days=30, accessed_by="coach")

    assert await in_unit_of_work(app, work) is None
    assert [i["event_type"] for i in await privacy_feed(client, user)] == ["health_data_accessed"]


async def test_store_the_same_measurements_again_changes_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    batch = [Measurement(metric_type="health_hrv", value=40.0 + i, timestamp=utc(3, 1 + i, 6)) for i in range(3)]

    async def sync(uow: UnitOfWork) -> list[bool]:
        stored = await metrics(uow).store(uuid.UUID(user.id), batch, source=MetricSource.DEVICE_SYNC)
        return [s.changed for s in stored]

    assert await in_unit_of_work(app, sync) == [True, True, True]
    assert await in_unit_of_work(app, sync) == [False, False, False]
    rows = ok(await client.get(HISTORY, headers=user.headers, params={"metric_type": "health_hrv"}))
    assert [r["value"] for r in rows] == [42.0, 41.0, 40.0]


@pytest.mark.parametrize(
    "fields",
    [
        {"metric_type": "heart_rate"},
        {"value": 1_000.0},
        {"note": "bad\x00note"},
        {"reference_low": float("nan")},
    ],
)
async def test_store_refuses_an_invalid_measurement_and_stores_none_of_the_batch(
    app: FastAPI, client: httpx.AsyncClient, fields: dict[str, Any]
) -> None:
    user = await anonymous_user(app)
    good = Measurement(metric_type="health_hrv", value=40.0, timestamp=utc(3, 1, 6))
    bad = good.model_copy(update={"timestamp": utc(3, 2, 6), **fields})

    async def sync(uow: UnitOfWork) -> None:
        await metrics(uow).store(uuid.UUID(user.id), [good, bad], source=MetricSource.DEVICE_SYNC)

    with pytest.raises(InvalidMetric):
        await in_unit_of_work(app, sync)
    assert ok(await client.get(HISTORY, headers=user.headers, params={"metric_type": "health_hrv"})) == []
