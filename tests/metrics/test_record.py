"""POST /metrics: what is accepted, what is refused, the same measurement twice, and what a weight
log sets off elsewhere (XP once a day, the logging streak, First Weigh-In, onboarding, the feed)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from src.modules.metrics import MetricSource
from tests.factories import User, anonymous_user, fresh_token
from tests.metrics.helpers import (
    FEED,
    HISTORY,
    METRICS,
    MY_ACHIEVEMENTS,
    ONBOARDING,
    STREAKS,
    XP_HISTORY,
    assert_problem,
    ok,
    record,
    store_many,
    stored_rows,
    utc,
)


async def weight_xp(client: httpx.AsyncClient, user: User) -> list[int]:
    """Amounts of the weight-log entries in the caller's XP ledger."""
    rows = ok(await client.get(XP_HISTORY, headers=user.headers, params={"limit": 100}))
    return [row["amount"] for row in rows if row["transaction_type"] == "weight_logged"]


async def logging_streak(client: httpx.AsyncClient, user: User) -> dict[str, Any]:
    body: dict[str, Any] = ok(await client.get(f"{STREAKS}/logging", headers=user.headers))
    return body


async def history(client: httpx.AsyncClient, user: User, metric_type: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ok(
        await client.get(HISTORY, headers=user.headers, params={"metric_type": metric_type})
    )
    return rows


# Accepted and refused ----------------------------------------------------------------------------


async def test_post_returns_201_with_the_stored_metric(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        METRICS, headers=user.headers, json={"metric_type": "body_fat_pct", "value": 21.4, "note": "morning"}
    )
    body = ok(response, 201)
    assert body["identity_id"] == user.id
    assert (body["metric_type"], body["value"], body["unit"], body["note"]) == ("body_fat_pct", 21.4, "%", "morning")
    assert body["source"] == "user_input"
    assert body["timestamp"] == "2026-03-10T12:00:00Z"  # now, when not given
    assert ok(await client.get(f"{METRICS}/{body['id']}", headers=user.headers))["value"] == 21.4


async def test_timestamp_with_an_offset_is_stored_as_that_instant_in_utc(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    body = await record(client, user, "steps", 4000, timestamp="2026-03-09T10:00:00+02:00")
    assert body["timestamp"] == "2026-03-09T08:00:00Z"


async def test_timestamp_in_the_future_is_refused(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        METRICS,
        headers=user.headers,
        json={"metric_type": "steps", "value": 10, "timestamp": (clock.now() + timedelta(hours=1)).isoformat()},
    )
    body = assert_problem(response, 422, "INVALID_METRIC")
    assert "future" in body["detail"]
    assert await history(client, user, "steps") == []


async def test_timestamp_a_few_minutes_ahead_is_accepted_as_clock_skew(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    body = await record(client, user, "steps", 10, timestamp=clock.now() + timedelta(minutes=4))
    assert body["timestamp"] == "2026-03-10T12:04:00Z"


async def test_naive_timestamp_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        METRICS, headers=user.headers, json={"metric_type": "steps", "value": 10, "timestamp": "2026-03-10T10:00:00"}
    )
    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert body["errors"][0]["loc"] == ["body", "timestamp"]
    assert await history(client, user, "steps") == []


@pytest.mark.parametrize("timestamp", ["0001-01-01T00:30:00+01:00", "not a date", "2026-02-30T10:00:00Z"])
async def test_unrepresentable_timestamp_is_refused(app: FastAPI, client: httpx.AsyncClient, timestamp: str) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        METRICS, headers=user.headers, json={"metric_type": "steps", "value": 10, "timestamp": timestamp}
    )
    assert_problem(response, 422)


@pytest.mark.parametrize("source", ["lab_report", "calculated"])
async def test_client_cannot_claim_a_server_only_source(app: FastAPI, client: httpx.AsyncClient, source: str) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        METRICS, headers=user.headers, json={"metric_type": "biomarker_ldl", "value": 3.1, "source": source}
    )
    body = assert_problem(response, 422, "INVALID_METRIC")
    assert "source" in body["detail"]
    assert await history(client, user, "biomarker_ldl") == []


async def test_a_client_cannot_claim_device_sync_its_values_are_its_own_input(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    body = await record(client, user, "health_resting_hr", 58, source="device_sync")
    assert body["source"] == "user_input"
    assert [m["source"] for m in await history(client, user, "health_resting_hr")] == ["user_input"]


async def test_a_derived_type_cannot_be_written(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(METRICS, headers=user.headers, json={"metric_type": "recovery_score", "value": 99})
    assert "computed by the server" in assert_problem(response, 422, "INVALID_METRIC")["detail"]
    assert await history(client, user, "recovery_score") == []


async def test_reference_low_above_reference_high_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        METRICS,
        headers=user.headers,
        json={"metric_type": "biomarker_ldl", "value": 3.1, "reference_low": 4.0, "reference_high": 2.0},
    )
    body = assert_problem(response, 422, "INVALID_METRIC")
    assert "reference_low" in body["detail"]
    assert await history(client, user, "biomarker_ldl") == []


@pytest.mark.parametrize(("field", "literal"), [("reference_low", "NaN"), ("reference_high", "Infinity")])
async def test_non_finite_reference_bound_is_refused(
    app: FastAPI, client: httpx.AsyncClient, field: str, literal: str
) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        METRICS,
        headers={**user.headers, "Content-Type": "application/json"},
        content=f'{{"metric_type": "biomarker_ldl", "value": 3.1, "{field}": {literal}}}',
    )
    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert body["errors"][0]["loc"] == ["body", field]
    assert await history(client, user, "biomarker_ldl") == []


async def test_biomarker_keeps_its_unit_reference_range_and_flag(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    body = await record(
        client, user, "biomarker_ldl", 3.4, unit="mmol/L", reference_low=0.0, reference_high=3.0, flag="high"
    )
    assert (body["unit"], body["reference_low"], body["reference_high"], body["flag"]) == ("mmol/L", 0.0, 3.0, "high")


# The same measurement twice ----------------------------------------------------------------------


async def test_same_type_source_and_instant_again_updates_the_same_row(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    first = await record(client, user, "steps", 4000, timestamp="2026-03-09T08:00:00Z")
    clock.advance(minutes=10)
    again = await record(client, user, "steps", 4500, timestamp="2026-03-09T10:00:00+02:00")  # the same instant
    assert again["id"] == first["id"]
    assert again["value"] == 4500
    assert again["created_at"] == first["created_at"]
    assert again["updated_at"] == "2026-03-10T12:10:00Z"
    assert [m["value"] for m in await history(client, user, "steps")] == [4500]
    assert len(await stored_rows(app, identity_id=user.id)) == 1


async def test_same_instant_from_another_source_is_another_measurement(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    at = "2026-03-09T08:00:00Z"
    typed = await record(client, user, "steps", 4000, timestamp=at)
    await store_many(app, user, [("steps", 4100, datetime.fromisoformat(at))], source=MetricSource.DEVICE_SYNC)
    assert typed["id"] not in {m["id"] for m in await history(client, user, "steps") if m["value"] == 4100}
    assert sorted(m["value"] for m in await history(client, user, "steps")) == [4000, 4100]


async def test_resending_an_unchanged_weight_logs_it_only_once(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    first = await record(client, user, "weight_kg", 72.5, timestamp="2026-03-10T07:00:00Z")
    again = await record(client, user, "weight_kg", 72.5, timestamp="2026-03-10T07:00:00Z")
    assert again["id"] == first["id"]
    feed = ok(await client.get(FEED, headers=user.headers, params={"category": "metrics"}))
    assert [item["event_type"] for item in feed] == ["weight_logged"]


# What a weight log earns -------------------------------------------------------------------------


async def test_first_weight_log_of_the_day_earns_10_xp_and_the_second_nothing_with_a_reason(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    first = await record(client, user, "weight_kg", 80.0, timestamp=clock.now() - timedelta(hours=4))
    assert first["credited"] is True
    assert first["xp_earned"] >= 10
    second = await record(client, user, "weight_kg", 79.8)
    assert second["id"] != first["id"]
    assert (second["xp_earned"], second["credited"]) == (0, False)
    assert second["credit_reason"] == "Weight logs earn XP once a day"
    assert await weight_xp(client, user) == [10]


async def test_weight_log_on_the_next_day_earns_10_xp_again_and_extends_the_logging_streak(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await record(client, user, "weight_kg", 80.0)
    assert (await logging_streak(client, user))["current_count"] == 1
    clock.advance(days=1)
    await fresh_token(app, user)
    second = await record(client, user, "weight_kg", 79.6)
    assert second["credited"] is True
    assert await weight_xp(client, user) == [10, 10]
    streak = await logging_streak(client, user)
    assert (streak["current_count"], streak["last_activity_date"]) == (2, "2026-03-11")


async def test_back_dated_weight_logs_earn_once_and_do_not_build_a_streak(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """XP and streaks come from when the server received the log, not from a client-chosen date."""
    user = await anonymous_user(app)
    for days_ago in range(7, -1, -1):
        await record(client, user, "weight_kg", 80.0 - days_ago / 10, timestamp=clock.now() - timedelta(days=days_ago))
    assert await weight_xp(client, user) == [10]
    streak = await logging_streak(client, user)
    assert (streak["current_count"], streak["longest_count"]) == (1, 1)
    assert len(await history(client, user, "weight_kg")) == 8  # every measurement is kept


async def test_weight_logged_in_pounds_earns_like_a_weight_log(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    body = await record(client, user, "weight_lbs", 165)
    assert body["credited"] is True
    assert await weight_xp(client, user) == [10]


async def test_other_metrics_earn_no_xp_and_no_logging_streak(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    body = await record(client, user, "steps", 9000)
    assert (body["xp_earned"], body["credited"]) == (0, False)
    assert await weight_xp(client, user) == []
    assert (await logging_streak(client, user))["current_count"] == 0


async def test_first_weight_log_unlocks_first_weigh_in(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    async def first_weigh_in() -> dict[str, Any]:
        rows = ok(await client.get(MY_ACHIEVEMENTS, headers=user.headers))
        found: dict[str, Any] = next(row for row in rows if row["achievement"]["name"] == "First Weigh-In")
        return found

    assert (await first_weigh_in())["is_unlocked"] is False
    await record(client, user, "weight_kg", 80.0)
    unlocked = await first_weigh_in()
    assert unlocked["is_unlocked"] is True
    assert unlocked["unlocked_at"] == "2026-03-10T12:00:00Z"


async def test_first_weight_log_completes_the_onboarding_step(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert ok(await client.get(ONBOARDING, headers=user.headers))["first_weight_logged"] is False
    await record(client, user, "steps", 100)
    assert ok(await client.get(ONBOARDING, headers=user.headers))["first_weight_logged"] is False
    await record(client, user, "weight_kg", 80.0)
    assert ok(await client.get(ONBOARDING, headers=user.headers))["first_weight_logged"] is True


async def test_weight_log_appears_in_the_feed_with_its_value(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    stored = await record(client, user, "weight_kg", 72.5)
    feed = ok(await client.get(FEED, headers=user.headers, params={"category": "metrics"}))
    assert len(feed) == 1
    item = feed[0]
    assert (item["event_type"], item["description"]) == ("weight_logged", "72.5 kg")
    assert (item["related_id"], item["related_type"]) == (stored["id"], "metric")
    assert item["metadata"]["xp_earned"] == stored["xp_earned"]


async def test_back_dated_weight_appears_in_the_feed_at_its_measurement_time(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await record(client, user, "weight_kg", 71.0, timestamp=utc(3, 8, 7))
    feed = ok(await client.get(FEED, headers=user.headers, params={"category": "metrics"}))
    assert [(i["timestamp"], i["description"]) for i in feed] == [("2026-03-08T07:00:00Z", "71 kg")]
