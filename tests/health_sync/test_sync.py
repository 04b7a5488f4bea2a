"""POST /health-sync: what a sync stores, idempotency, per-reading instants, validation."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from src.core.uow import UnitOfWork
from src.modules.metrics import Measurement, MetricSource, metrics
from tests.factories import anonymous_user, fresh_token
from tests.health_sync.helpers import (
    API,
    CONTEXT,
    FULL_VALUES,
    HEALTH_TYPES,
    IMPORT,
    STATUS,
    SYNC,
    assert_problem,
    events,
    history,
    instant,
    iso,
    set_timezone,
    sync,
    total_rows,
    total_xp,
    utc,
    weight_xp,
)
from tests.metrics.helpers import in_unit_of_work


async def test_sync_stores_each_field_as_its_device_metric(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    synced_at = clock.now() - timedelta(minutes=10)
    body = await sync(client, user, {**FULL_VALUES, "synced_at": iso(synced_at)})
    assert body["synced"] == list(HEALTH_TYPES)
    assert instant(body["timestamp"]) == synced_at
    assert (body["readings"], body["written"], body["unchanged"]) == (7, 7, 0)
    expected = dict(zip(HEALTH_TYPES, FULL_VALUES.values(), strict=True))
    for metric_type, value in expected.items():
        rows = await history(client, user, metric_type)
        assert [(r["value"], r["source"]) for r in rows] == [(value, "device_sync")], metric_type
    # Point readings keep the instant; daily totals sit at the local (here UTC) midnight of their day.
    assert instant((await history(client, user, "health_hrv"))[0]["timestamp"]) == synced_at
    assert instant((await history(client, user, "steps"))[0]["timestamp"]) == utc(3, 10)


async def test_repeating_the_same_sync_keeps_one_row_per_value_and_reports_unchanged(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    payload = {**FULL_VALUES, "synced_at": iso(clock.now())}
    await sync(client, user, payload)
    before = {t: await history(client, user, t) for t in HEALTH_TYPES}
    clock.advance(minutes=3)
    again = await sync(client, user, payload)
    assert (again["written"], again["unchanged"]) == (0, 7)
    assert again["synced"] == list(HEALTH_TYPES)
    after = {t: await history(client, user, t) for t in HEALTH_TYPES}
    assert after == before  # same rows, same updated_at


async def test_a_changed_value_at_the_same_instant_updates_the_row(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    at = iso(clock.now())
    await sync(client, user, {"hrv": 40, "synced_at": at})
    body = await sync(client, user, {"hrv": 42, "synced_at": at})
    assert (body["written"], body["unchanged"]) == (1, 0)
    assert [r["value"] for r in await history(client, user, "health_hrv")] == [42]


async def test_later_syncs_of_one_day_replace_the_daily_totals_instead_of_adding_rows(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await sync(client, user, {"steps": 3000, "active_calories": 150, "synced_at": iso(utc(3, 10, 9))})
    await sync(client, user, {"steps": 8000, "active_calories": 420, "synced_at": iso(utc(3, 10, 11, 30))})
    assert [r["value"] for r in await history(client, user, "steps")] == [8000]
    assert [r["value"] for r in await history(client, user, "calories_burned")] == [420]


async def test_daily_totals_fall_on_the_local_day_of_the_users_time_zone(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await set_timezone(client, user, "America/New_York")
    # 02:00 UTC on 10 March is 22:00 on 9 March in New York (EDT, UTC-4).
    await sync(client, user, {"steps": 9000, "synced_at": iso(utc(3, 10, 2))})
    await sync(client, user, {"steps": 1200, "synced_at": iso(utc(3, 10, 11))})
    rows = await history(client, user, "steps")
    assert [(instant(r["timestamp"]), r["value"]) for r in rows] == [(utc(3, 10, 4), 1200), (utc(3, 9, 4), 9000)]


async def test_per_field_measured_at_is_honoured(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user = await anonymous_user(app)
    payload = {
        "weight_kg": {"value": 81.2, "measured_at": "2026-03-09T07:30:00+01:00"},
        "hrv": {"value": 48, "measured_at": "2026-03-10T05:10:00Z"},
        "sleep_hours": {"value": 6.5, "measured_at": "2026-03-09T06:45:00Z"},
        "steps": {"value": 11000, "measured_at": "2026-03-08T21:00:00Z"},
        "resting_heart_rate": 57,
        "synced_at": iso(clock.now()),
    }
    body = await sync(client, user, payload)
    assert body["written"] == 5
    stored = {t: instant((await history(client, user, t))[0]["timestamp"]) for t in body["synced"]}
    assert stored == {
        "weight_kg": utc(3, 9, 6, 30),
        "health_hrv": utc(3, 10, 5, 10),
        "sleep_hours": utc(3, 9),  # the night that ended on 9 March
        "steps": utc(3, 8),
        "health_resting_hr": clock.now(),  # a bare number is measured at synced_at
    }


async def test_samples_store_several_readings_each_at_its_instant(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    samples = [
        {"metric_type": "health_hrv", "value": 40 + day, "measured_at": iso(utc(3, 4 + day, 6))} for day in range(5)
    ]
    samples.append({"metric_type": "steps", "value": 7000, "measured_at": iso(utc(3, 9, 20))})
    body = await sync(client, user, {"synced_at": iso(clock.now()), "samples": samples, "steps": 2500})
    assert body["synced"] == ["health_hrv", "steps"]
    assert (body["readings"], body["written"]) == (7, 7)
    rows = await history(client, user, "health_hrv")
    assert [(instant(r["timestamp"]), r["value"]) for r in rows] == [
        (utc(3, 4 + day, 6), 40 + day) for day in reversed(range(5))
    ]
    assert [r["value"] for r in await history(client, user, "steps")] == [2500, 7000]


async def test_more_than_500_samples_are_refused(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user = await anonymous_user(app)
    start = clock.now() - timedelta(days=30)
    samples = [
        {"metric_type": "health_hrv", "value": 50, "measured_at": iso(start + timedelta(minutes=i))} for i in range(501)
    ]
    response = await client.post(SYNC, headers=user.headers, json={"synced_at": iso(clock.now()), "samples": samples})
    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert body["errors"][0]["loc"][:2] == ["body", "samples"]
    assert await total_rows(client, user) == 0


IMPLAUSIBLE = [
    ("resting_heart_rate", 400),
    ("resting_heart_rate", 0),
    ("hrv", 0),
    ("sleep_hours", 30),
    ("sleep_hours", -1),
    ("steps", -5),
    ("steps", 250_000),
    ("active_calories", -10),
    ("weight_kg", 5),
    ("body_fat_pct", 90),
]


@pytest.mark.parametrize(("field", "value"), IMPLAUSIBLE)
async def test_an_implausible_field_refuses_the_whole_sync_naming_the_field(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, field: str, value: float
) -> None:
    user = await anonymous_user(app)
    payload = {**FULL_VALUES, field: value, "synced_at": iso(clock.now())}
    body = assert_problem(await client.post(SYNC, headers=user.headers, json=payload), 422, "INVALID_HEALTH_VALUE")
    assert body["field"] == field
    assert body["detail"].startswith(f"{field}:")
    assert body["errors"][0]["loc"] == ["body", field]
    assert await total_rows(client, user, (*HEALTH_TYPES, "recovery_score")) == 0
    assert await events(client, user, "health_synced") == []
    assert await total_xp(client, user) == 0  # the weight in the same payload was not credited


async def test_an_implausible_reading_in_object_form_or_in_samples_is_named(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    now = iso(clock.now())
    response = await client.post(
        SYNC, headers=user.headers, json={"synced_at": now, "hrv": {"value": 900, "measured_at": now}}
    )
    assert assert_problem(response, 422, "INVALID_HEALTH_VALUE")["errors"][0]["loc"] == ["body", "hrv", "value"]
    samples = [
        {"metric_type": "weight_kg", "value": 80, "measured_at": now},
        {"metric_type": "sleep_hours", "value": 25, "measured_at": now},
    ]
    response = await client.post(SYNC, headers=user.headers, json={"synced_at": now, "samples": samples})
    body = assert_problem(response, 422, "INVALID_HEALTH_VALUE")
    assert body["field"] == "samples.1.value"
    assert await total_rows(client, user) == 0


@pytest.mark.parametrize(
    "payload",
    [
        {"steps": 100, "synced_at": "2026-03-10T11:00:00"},
        {"steps": {"value": 100, "measured_at": "2026-03-10T11:00:00"}, "synced_at": "2026-03-10T11:00:00Z"},
        {
            "synced_at": "2026-03-10T11:00:00Z",
            "samples": [{"metric_type": "steps", "value": 1, "measured_at": "2026-03-10T11:00:00"}],
        },
    ],
    ids=["synced_at", "measured_at", "sample"],
)
async def test_naive_datetimes_are_refused(app: FastAPI, client: httpx.AsyncClient, payload: dict[str, Any]) -> None:
    user = await anonymous_user(app)
    body = assert_problem(await client.post(SYNC, headers=user.headers, json=payload), 422, "VALIDATION_ERROR")
    assert "timezone" in body["detail"].lower()
    assert await total_rows(client, user) == 0


async def test_instants_more_than_five_minutes_ahead_are_refused(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    ahead = iso(clock.now() + timedelta(minutes=6))
    response = await client.post(SYNC, headers=user.headers, json={"steps": 10, "synced_at": ahead})
    assert assert_problem(response, 422, "INVALID_HEALTH_VALUE")["field"] == "synced_at"
    payload = {"weight_kg": {"value": 80, "measured_at": ahead}, "synced_at": iso(clock.now())}
    response = await client.post(SYNC, headers=user.headers, json=payload)
    assert assert_problem(response, 422, "INVALID_HEALTH_VALUE")["field"] == "weight_kg.measured_at"
    assert await total_rows(client, user) == 0
    # A device clock a few minutes fast is fine.
    await sync(client, user, {"steps": 10, "synced_at": iso(clock.now() + timedelta(minutes=4))})


@pytest.mark.parametrize("when", ["1999-12-31T23:00:00Z", "0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"])
async def test_instants_out_of_range_are_refused_with_422(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, when: str
) -> None:
    user = await anonymous_user(app)
    payload = {"synced_at": iso(clock.now()), "samples": [{"metric_type": "steps", "value": 1, "measured_at": when}]}
    body = assert_problem(await client.post(SYNC, headers=user.headers, json=payload), 422, "INVALID_HEALTH_VALUE")
    assert body["field"] == "samples.0.measured_at"


async def test_two_different_totals_for_one_day_are_refused_but_repeats_are_fine(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    now = iso(clock.now())
    morning = iso(utc(3, 10, 8))
    conflicting = {
        "steps": 5000,
        "synced_at": now,
        "samples": [{"metric_type": "steps", "value": 4000, "measured_at": morning}],
    }
    body = assert_problem(await client.post(SYNC, headers=user.headers, json=conflicting), 422, "INVALID_HEALTH_VALUE")
    assert body["field"] == "samples.0.value"
    assert await total_rows(client, user) == 0
    repeated = {
        "steps": 5000,
        "synced_at": now,
        "samples": [{"metric_type": "steps", "value": 5000, "measured_at": morning}],
    }
    result = await sync(client, user, repeated)
    assert result["readings"] == 1
    assert [r["value"] for r in await history(client, user, "steps")] == [5000]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"steps": NaN, "synced_at": "2026-03-10T11:00:00Z"}',
        b'{"hrv": Infinity, "synced_at": "2026-03-10T11:00:00Z"}',
        b'{"weight_kg": {"value": -Infinity}, "synced_at": "2026-03-10T11:00:00Z"}',
        b'{"synced_at": "2026-03-10T11:00:00Z", "samples": [{"metric_type": "health_hrv", "value": NaN, '
        b'"measured_at": "2026-03-10T11:00:00Z"}]}',
    ],
)
async def test_non_finite_numbers_are_refused(app: FastAPI, client: httpx.AsyncClient, raw: bytes) -> None:
    user = await anonymous_user(app)
    response = await client.post(SYNC, headers={**user.headers, "content-type": "application/json"}, content=raw)
    assert_problem(response, 422)
    assert await total_rows(client, user) == 0


@pytest.mark.parametrize(
    "payload",
    [
        {},
        [],
        "sync",
        None,
        {"synced_at": "yesterday"},
        {"synced_at": 12},
        {"steps": "many", "synced_at": "2026-03-10T11:00:00Z"},
        {"steps": 1.5, "synced_at": "2026-03-10T11:00:00Z"},
        {"steps": 10**30, "synced_at": "2026-03-10T11:00:00Z"},
        {"steps": {"value": 10**300}, "synced_at": "2026-03-10T11:00:00Z"},
        {"hrv": 1e308, "synced_at": "2026-03-10T11:00:00Z"},
        {"hrv": {"value": 50, "unit": "ms"}, "synced_at": "2026-03-10T11:00:00Z"},
        {"hrv": {"measured_at": "2026-03-10T11:00:00Z"}, "synced_at": "2026-03-10T11:00:00Z"},
        {"hrv": [50], "synced_at": "2026-03-10T11:00:00Z"},
        {"samples": "x", "synced_at": "2026-03-10T11:00:00Z"},
        {
            "samples": [{"metric_type": "heart_rate", "value": 1, "measured_at": "2026-03-10T11:00:00Z"}],
            "synced_at": "2026-03-10T11:00:00Z",
        },
        {"samples": [{"metric_type": "steps", "value": 1}], "synced_at": "2026-03-10T11:00:00Z"},
        {"samples": [None], "synced_at": "2026-03-10T11:00:00Z"},
        {"synced_at": "2026-13-40T11:00:00Z"},
        {"hrv": True, "synced_at": "2026-03-10T11:00:00Z"},
        {"hrv": "55", "synced_at": "2026-03-10T11:00:00Z"},
        {"steps": {"value": 100.5}, "synced_at": "2026-03-10T11:00:00Z"},
        {
            "samples": [{"metric_type": "steps", "value": 1.5, "measured_at": "2026-03-10T11:00:00Z"}],
            "synced_at": "2026-03-10T11:00:00Z",
        },
    ],
)
async def test_malformed_bodies_get_422_never_500(app: FastAPI, client: httpx.AsyncClient, payload: Any) -> None:
    user = await anonymous_user(app)
    response = await client.post(SYNC, headers=user.headers, json=payload)
    assert_problem(response, 422)
    assert await total_rows(client, user) == 0


async def test_a_synced_weight_counts_as_a_weigh_in_credited_once_a_day(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await sync(client, user, {"weight_kg": 80.0, "synced_at": iso(clock.now())})
    assert await weight_xp(client, user) == 10
    level_after_first = await total_xp(client, user)
    clock.advance(hours=2)
    await fresh_token(app, user)
    await sync(client, user, {"weight_kg": 79.8, "synced_at": iso(clock.now())})
    await sync(client, user, {"weight_kg": 79.8, "synced_at": iso(clock.now())})  # a repeat
    assert await weight_xp(client, user) == 10
    assert await total_xp(client, user) == level_after_first
    assert len(await history(client, user, "weight_kg")) == 2
    assert len(await events(client, user, "weight_logged")) == 2
    clock.advance(days=1)
    await fresh_token(app, user)
    await sync(client, user, {"weight_kg": 79.5, "synced_at": iso(clock.now())})
    assert await weight_xp(client, user) == 20
    assert await total_xp(client, user) >= level_after_first + 10


async def test_each_sync_is_journaled_once_with_counts_and_types_but_no_values(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    payload = {"hrv": 61.25, "sleep_hours": 7.75, "synced_at": iso(clock.now())}
    await sync(client, user, payload)
    clock.advance(minutes=1)
    await sync(client, user, payload)
    found = await events(client, user, "health_synced")
    assert len(found) == 2
    newest = found[0]["metadata"]
    assert newest["metric_types"] == ["health_hrv", "sleep_hours"]
    assert (newest["readings"], newest["written"], newest["unchanged"]) == (2, 0, 2)
    text = str([e["metadata"] for e in found])
    assert "61.25" not in text
    assert "7.75" not in text


async def test_an_empty_sync_is_accepted_and_stores_nothing(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    body = await sync(client, user, {"synced_at": iso(clock.now())})
    assert (body["synced"], body["readings"], body["written"]) == ([], 0, 0)
    assert await total_rows(client, user, (*HEALTH_TYPES, "recovery_score")) == 0


async def test_readings_of_one_person_are_invisible_to_another(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    alice, bob = await anonymous_user(app), await anonymous_user(app)
    await sync(client, alice, {**FULL_VALUES, "synced_at": iso(clock.now())})
    assert await total_rows(client, bob) == 0
    bob_status = (await client.get(STATUS, headers=bob.headers)).json()
    assert bob_status["is_connected"] is False
    assert (await client.get(CONTEXT, headers=bob.headers)).json()["has_data"] is False


@pytest.mark.parametrize(("method", "path"), [("POST", SYNC), ("GET", STATUS), ("GET", CONTEXT), ("POST", IMPORT)])
async def test_every_route_requires_authentication(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path, json={"synced_at": "2026-03-10T11:00:00Z"})
    assert_problem(response, 401, "UNAUTHORIZED")
    response = await client.request(
        method, path, headers={"Authorization": "Bearer not-a-token"}, json={"synced_at": "2026-03-10T11:00:00Z"}
    )
    assert_problem(response, 401, "UNAUTHORIZED")


async def test_a_days_total_synced_again_after_a_time_zone_change_replaces_it(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    noon = utc(3, 10, 11)  # 10 March in UTC and in Berlin
    await sync(client, user, {"steps": 1000, "synced_at": iso(noon)})
    await set_timezone(client, user, "Europe/Berlin")
    body = await sync(client, user, {"steps": 1500, "synced_at": iso(noon)})
    assert (body["written"], body["unchanged"]) == (1, 0)
    [row] = await history(client, user, "steps")
    assert (row["value"], row["day"]) == (1500, "2026-03-10")
    assert instant(row["timestamp"]) == utc(3, 9, 23)  # now Berlin's midnight of that day
    again = await sync(client, user, {"steps": 1500, "synced_at": iso(noon)})
    assert (again["written"], again["unchanged"]) == (0, 1)
    total = await client.get(
        f"{API}/metrics/aggregate", headers=user.headers, params={"metric_type": "steps", "operation": "sum"}
    )
    assert total.json()["value"] == 1500


async def test_a_total_stored_before_totals_had_days_is_updated_not_duplicated(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    identity_id = uuid.UUID(user.id)

    async def legacy(uow: UnitOfWork) -> None:  # a row as stored before the day column existed
        old = Measurement(metric_type="steps", value=800, timestamp=utc(3, 10))
        await metrics(uow).store(identity_id, [old], source=MetricSource.DEVICE_SYNC)

    await in_unit_of_work(app, legacy)
    await sync(client, user, {"steps": 900, "synced_at": iso(utc(3, 10, 11))})
    [row] = await history(client, user, "steps")
    assert (row["value"], row["day"]) == (900, "2026-03-10")
