"""GET /health-sync/context: latest values, insights, the recovery score and its daily record."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import User, anonymous_user, fresh_token
from tests.health_sync.helpers import (
    TREND,
    context,
    events,
    history,
    instant,
    iso,
    ok,
    set_timezone,
    sync,
    utc,
)


def sample(metric_type: str, value: float, at: Any) -> dict[str, Any]:
    return {"metric_type": metric_type, "value": value, "measured_at": iso(at)}


async def sync_samples(client: httpx.AsyncClient, user: User, now: Any, *samples: dict[str, Any]) -> None:
    await sync(client, user, {"synced_at": iso(now), "samples": list(samples)})


async def test_without_health_data_the_context_says_so(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    body = await context(client, user)
    assert body["has_data"] is False
    assert "connect" in body["message"].lower()
    assert body["recovery"] is None


async def test_context_shows_latest_values_with_labels_units_and_instants(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    now = clock.now()
    await sync(client, user, {"resting_heart_rate": 64, "hrv": 41, "synced_at": iso(now - timedelta(hours=3))})
    await sync(
        client,
        user,
        {"resting_heart_rate": 62, "sleep_hours": 7.0, "steps": 5400, "weight_kg": 80, "synced_at": iso(now)},
    )
    body = await context(client, user)
    assert body["has_data"] is True
    assert body["message"] is None
    shown = {t: (m["label"], m["value"], m["unit"]) for t, m in body["metrics"].items()}
    assert shown == {
        "health_resting_hr": ("Resting Heart Rate", 62, "bpm"),
        "health_hrv": ("Heart Rate Variability", 41, "ms"),
        "sleep_hours": ("Sleep Duration", 7.0, "hours"),
        "steps": ("Steps Today", 5400, "steps"),
    }
    assert instant(body["metrics"]["health_hrv"]["recorded_at"]) == now - timedelta(hours=3)
    assert instant(body["metrics"]["health_resting_hr"]["recorded_at"]) == now
    assert all(m["is_recent"] and m["source"] == "device_sync" for m in body["metrics"].values())


async def test_steps_today_only_shows_steps_of_today_in_the_users_time_zone(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    # 10:00 UTC on 10 March is still 10 March in London but 23:00 on 10 March in Auckland, where
    # "now" (12:00 UTC) is already 11 March.
    london, auckland = await anonymous_user(app), await anonymous_user(app)
    await set_timezone(client, auckland, "Pacific/Auckland")
    for user in (london, auckland):
        await sync(client, user, {"steps": 6000, "synced_at": iso(utc(3, 10, 10))})
    assert (await context(client, london))["metrics"]["steps"]["value"] == 6000
    body = await context(client, auckland)
    assert body["has_data"] is False  # yesterday's steps are not "Steps Today"
    await sync(client, auckland, {"steps": 300, "synced_at": iso(clock.now())})
    assert (await context(client, auckland))["metrics"]["steps"]["value"] == 300


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"hrv": 29.9}, ["low_hrv"]),
        ({"hrv": 30}, []),
        ({"hrv": 60}, []),
        ({"hrv": 60.1}, ["high_hrv"]),
        ({"sleep_hours": 5.9}, ["short_sleep"]),
        ({"sleep_hours": 6}, []),
        ({"sleep_hours": 7.4}, []),
        ({"sleep_hours": 7.5}, ["well_rested"]),
        ({"resting_heart_rate": 75}, []),
        ({"resting_heart_rate": 76}, ["elevated_resting_hr"]),
        ({"hrv": 25, "sleep_hours": 5, "resting_heart_rate": 80}, ["low_hrv", "short_sleep", "elevated_resting_hr"]),
    ],
)
async def test_insights_follow_the_latest_recent_values(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, values: dict[str, float], expected: list[str]
) -> None:
    user = await anonymous_user(app)
    await sync(client, user, {**values, "synced_at": iso(clock.now())})
    body = await context(client, user)
    assert [i["type"] for i in body["insights"]] == expected
    for insight in body["insights"]:
        assert insight["title"]
        assert insight["message"]
    if "short_sleep" in expected:
        assert f"{values['sleep_hours']:.1f} hours" in body["insights"][expected.index("short_sleep")]["message"]


def hrv_pair(first: float, last: float) -> list[tuple[str, float, timedelta]]:
    return [("health_hrv", first, timedelta(days=3)), ("health_hrv", last, timedelta(hours=1))]


RECOVERY_CASES = [
    pytest.param([("sleep_hours", 7.5, timedelta(hours=4))], 70, "good", id="sleep-7.5-plus-20"),
    pytest.param([("sleep_hours", 7.49, timedelta(hours=4))], 50, "moderate", id="sleep-7.49-zero"),
    pytest.param([("sleep_hours", 6.0, timedelta(hours=4))], 50, "moderate", id="sleep-6-zero"),
    pytest.param([("sleep_hours", 5.99, timedelta(hours=4))], 30, "needs_rest", id="sleep-5.99-minus-20"),
    pytest.param([("health_resting_hr", 60, timedelta(hours=1))], 60, "good", id="rhr-60-plus-10"),
    pytest.param([("health_resting_hr", 60.5, timedelta(hours=1))], 50, "moderate", id="rhr-60.5-zero"),
    pytest.param([("health_resting_hr", 75, timedelta(hours=1))], 50, "moderate", id="rhr-75-zero"),
    pytest.param([("health_resting_hr", 75.5, timedelta(hours=1))], 40, "moderate", id="rhr-75.5-minus-10"),
    pytest.param(hrv_pair(40, 50), 70, "good", id="hrv-up-plus-20"),
    pytest.param(hrv_pair(50, 40), 35, "needs_rest", id="hrv-down-minus-15"),
    pytest.param(hrv_pair(50, 50.2), 50, "moderate", id="hrv-stable-within-1-percent"),
    pytest.param([("health_hrv", 70, timedelta(hours=1))], 50, "moderate", id="single-hrv-reading-counts-nothing"),
    pytest.param(
        [*hrv_pair(40, 50), ("health_resting_hr", 60, timedelta(hours=1))], 80, "excellent", id="80-is-excellent"
    ),
    pytest.param(
        [*hrv_pair(40, 50), ("sleep_hours", 8, timedelta(hours=4)), ("health_resting_hr", 55, timedelta(hours=1))],
        100,
        "excellent",
        id="best-is-100",
    ),
    pytest.param(
        [*hrv_pair(50, 40), ("sleep_hours", 4, timedelta(hours=4)), ("health_resting_hr", 90, timedelta(hours=1))],
        5,
        "needs_rest",
        id="worst-is-5",
    ),
]


@pytest.mark.parametrize(("readings", "score", "status"), RECOVERY_CASES)
async def test_recovery_score_follows_the_formula(
    app: FastAPI,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    readings: list[tuple[str, float, timedelta]],
    score: int,
    status: str,
) -> None:
    user = await anonymous_user(app)
    now = clock.now()
    await sync_samples(client, user, now, *(sample(t, v, now - ago) for t, v, ago in readings))
    recovery = (await context(client, user))["recovery"]
    assert (recovery["score"], recovery["status"]) == (score, status)
    assert 0 <= recovery["score"] <= 100
    assert recovery["recommendation"]
    assert sum(f["points"] for f in recovery["factors"]) == score - 50


async def test_each_status_has_its_own_recommendation(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    recommendations = {}
    for sleep_hours, rhr in ((8, 55), (7.5, 70), (7, 70), (5, 80)):
        user = await anonymous_user(app)
        await sync(client, user, {"sleep_hours": sleep_hours, "resting_heart_rate": rhr, "synced_at": iso(clock.now())})
        recovery = (await context(client, user))["recovery"]
        recommendations[recovery["status"]] = recovery["recommendation"]
    assert set(recommendations) == {"excellent", "good", "moderate", "needs_rest"}
    assert len(set(recommendations.values())) == 4
    assert "sleep" in recommendations["needs_rest"].lower()


async def test_values_older_than_72_hours_are_shown_but_feed_no_insight_or_score(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    old = clock.now() - timedelta(hours=73)
    await sync_samples(client, user, clock.now(), sample("health_hrv", 20, old), sample("health_resting_hr", 90, old))
    body = await context(client, user)
    assert body["has_data"] is True
    assert body["metrics"]["health_hrv"]["is_recent"] is False
    assert body["insights"] == []
    assert body["recovery"] is None
    assert await history(client, user, "recovery_score") == []


async def test_the_days_score_is_stored_once_per_local_day_at_local_midnight(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await set_timezone(client, user, "America/New_York")  # EDT (UTC-4) since 8 March
    await sync(client, user, {"sleep_hours": 8, "synced_at": iso(clock.now())})  # the sync stores the score
    await context(client, user)
    await context(client, user)
    rows = await history(client, user, "recovery_score")
    assert [(r["value"], r["source"], instant(r["timestamp"])) for r in rows] == [(70, "calculated", utc(3, 10, 4))]
    # A worse value later the same day replaces the day's score.
    clock.advance(minutes=30)
    await sync(client, user, {"resting_heart_rate": 80, "synced_at": iso(clock.now())})
    assert [r["value"] for r in await history(client, user, "recovery_score")] == [60]


async def test_daily_scores_can_be_trended(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user = await anonymous_user(app)
    for day, sleep_hours in enumerate((5, 7, 8)):
        if day:
            clock.advance(days=1)
            await fresh_token(app, user)
        await sync(client, user, {"sleep_hours": sleep_hours, "synced_at": iso(clock.now())})
        await context(client, user)
    rows = await history(client, user, "recovery_score")
    assert [r["value"] for r in rows] == [70, 50, 30]
    assert [instant(r["timestamp"]) for r in rows] == [utc(3, 12), utc(3, 11), utc(3, 10)]
    trend = ok(await client.get(TREND, headers=user.headers, params={"metric_type": "recovery_score"}))
    assert trend["direction"] == "up"
    assert trend["data_points"] == 3


async def test_reads_of_health_data_are_recorded_in_the_journal(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await sync(client, user, {"hrv": 50, "synced_at": iso(clock.now() - timedelta(days=1))})
    await sync(client, user, {"hrv": 55, "synced_at": iso(clock.now())})
    before = len(await events(client, user, "health_data_accessed"))
    await context(client, user)
    accessed = await events(client, user, "health_data_accessed")
    assert len(accessed) > before
    metadata = [e["metadata"] for e in accessed]
    assert all(m["accessed_by"] == "health_sync" for m in metadata)
    read_types = {t for m in metadata for t in m["metric_types"]}
    assert {"health_hrv", "sleep_hours", "health_resting_hr", "steps"} <= read_types
    assert "55" not in str(metadata)
