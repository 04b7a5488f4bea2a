"""GET /health-sync/status: connected only while a device keeps sending recent data."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import anonymous_user, fresh_token
from tests.health_sync.helpers import (
    FULL_VALUES,
    HEALTH_TYPES,
    METRICS,
    instant,
    iso,
    ok,
    status_of,
    sync,
    utc,
)


async def test_a_person_who_never_synced_is_not_connected(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    body = await status_of(client, user)
    assert body["is_connected"] is False
    assert body["last_sync"] is None
    assert body["synced_metrics"] == []
    assert body["stale_metrics"] == []


async def test_a_recent_sync_connects_and_lists_the_synced_types(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    clock.advance(minutes=30)
    await sync(client, user, {**FULL_VALUES, "synced_at": iso(clock.now() - timedelta(minutes=20))})
    body = await status_of(client, user)
    assert body["is_connected"] is True
    assert body["synced_metrics"] == list(HEALTH_TYPES)
    assert body["stale_metrics"] == []
    assert instant(body["last_sync"]) == clock.now()  # when the data arrived
    assert instant(body["last_reading_at"]) == clock.now() - timedelta(minutes=20)


async def test_after_four_days_without_data_the_device_is_no_longer_connected(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    synced_at = clock.now()
    await sync(client, user, {"hrv": 50, "weight_kg": 80, "synced_at": iso(synced_at)})
    clock.advance(hours=71)
    await fresh_token(app, user)
    assert (await status_of(client, user))["is_connected"] is True
    clock.advance(hours=25)  # four days after the sync
    await fresh_token(app, user)
    body = await status_of(client, user)
    assert body["is_connected"] is False
    assert body["synced_metrics"] == []
    assert body["stale_metrics"] == ["health_hrv", "weight_kg"]
    assert instant(body["last_sync"]) == synced_at


async def test_syncing_old_readings_does_not_make_a_device_connected(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    old = clock.now() - timedelta(days=10)
    await sync(
        client,
        user,
        {
            "synced_at": iso(clock.now()),
            "samples": [{"metric_type": "health_hrv", "value": 50, "measured_at": iso(old)}],
        },
    )
    body = await status_of(client, user)
    assert body["is_connected"] is False
    assert body["stale_metrics"] == ["health_hrv"]


async def test_values_typed_in_by_hand_do_not_count_as_a_device(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    ok(await client.post(METRICS, headers=user.headers, json={"metric_type": "weight_kg", "value": 80}), 201)
    assert (await status_of(client, user))["is_connected"] is False
    await sync(client, user, {"steps": 4000, "weight_kg": 80.5, "synced_at": iso(utc(3, 10, 9))})
    ok(await client.post(METRICS, headers=user.headers, json={"metric_type": "weight_kg", "value": 80.2}), 201)
    body = await status_of(client, user)
    assert body["is_connected"] is True
    assert body["synced_metrics"] == ["steps"]  # the newest weight was typed in


async def test_a_repeated_sync_that_changes_nothing_still_moves_last_sync(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    payload = {"hrv": 50, "steps": 4000, "synced_at": iso(clock.now())}
    await sync(client, user, payload)
    clock.advance(minutes=40)
    again = await sync(client, user, payload)
    assert again["written"] == 0
    body = await status_of(client, user)
    assert instant(body["last_sync"]) == clock.now()
    assert instant(body["last_reading_at"]) == instant(payload["synced_at"])
