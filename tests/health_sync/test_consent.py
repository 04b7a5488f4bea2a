"""Consent to device health sync (GET/PUT /health-sync/consent) and deleting device data
(DELETE /health-sync/data): recorded, journalled, enforced on syncs and imports, exported and erased."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from src.core.uow import UnitOfWork
from src.modules.metrics import Measurement, MetricSource, metrics
from tests.factories import User, anonymous_user
from tests.health_sync.helpers import (
    API,
    FULL_VALUES,
    HEALTH_TYPES,
    METRICS,
    SYNC,
    assert_problem,
    context,
    events,
    export_xml,
    history,
    instant,
    iso,
    ok,
    record,
    status_of,
    sync,
    total_rows,
    upload,
)
from tests.metrics.helpers import in_unit_of_work
from tests.profile.helpers import count_rows

CONSENT = f"{SYNC}/consent"
DATA = f"{SYNC}/data"
EXPORT = f"{API}/profile/export"
ALL_DATA = f"{API}/profile/all-data"
ANONYMIZE = f"{API}/profile/anonymize"


async def consent_of(client: httpx.AsyncClient, user: User) -> Any:
    return ok(await client.get(CONSENT, headers=user.headers))


async def decide(client: httpx.AsyncClient, user: User, body: dict[str, Any], status: int = 200) -> Any:
    return ok(await client.put(CONSENT, headers=user.headers, json=body), status)


def full_sync(clock: FrozenClock) -> dict[str, Any]:
    return {**FULL_VALUES, "synced_at": iso(clock.now() - timedelta(minutes=5))}


# Recording ------------------------------------------------------------------------------------


async def test_nothing_is_recorded_before_the_first_sync_or_decision(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert (await consent_of(client, user))["status"] == "not_recorded"
    assert (await status_of(client, user))["consent"]["status"] == "not_recorded"
    assert await events(client, user, "health_consent_granted") == []


async def test_the_first_sync_records_consent_on_that_basis(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await sync(client, user, full_sync(clock))
    consent = await consent_of(client, user)
    assert (consent["status"], consent["basis"], consent["platform"]) == ("granted", "first_sync", None)
    assert instant(consent["granted_at"]) == clock.now()
    assert consent["withdrawn_at"] is None
    [event] = await events(client, user, "health_consent_granted")
    assert event["metadata"]["basis"] == "first_sync"
    # Later syncs do not record it again.
    await sync(client, user, {"steps": 12000, "synced_at": iso(clock.now())})
    assert len(await events(client, user, "health_consent_granted")) == 1
    assert (await status_of(client, user))["consent"]["basis"] == "first_sync"


async def test_an_apple_health_import_records_the_platform(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    data = export_xml(record("StepCount", 4200, "2026-03-08 18:00:00 +0100", unit="count"))
    ok(await upload(client, user, data))
    consent = await consent_of(client, user)
    assert (consent["status"], consent["basis"], consent["platform"]) == ("granted", "first_sync", "apple_health")


async def test_an_explicit_grant_is_recorded_once_and_a_new_policy_version_is_a_new_grant(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    body = {"granted": True, "platform": "health_connect", "policy_version": "2026-11"}
    first = await decide(client, user, body)
    assert (first["status"], first["basis"], first["platform"], first["policy_version"]) == (
        "granted",
        "explicit",
        "health_connect",
        "2026-11",
    )
    assert instant(first["granted_at"]) == clock.now()
    clock.advance(minutes=40)
    again = await decide(client, user, body)
    assert again == first  # the same decision again changes nothing
    assert len(await events(client, user, "health_consent_granted")) == 1

    newer = await decide(client, user, {**body, "policy_version": "2027-01"})
    assert newer["policy_version"] == "2027-01"
    assert instant(newer["granted_at"]) == clock.now()
    granted = await events(client, user, "health_consent_granted")
    assert [e["metadata"]["policy_version"] for e in granted] == ["2027-01", "2026-11"]


async def test_an_explicit_grant_replaces_one_recorded_by_the_first_sync(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await sync(client, user, full_sync(clock))
    clock.advance(minutes=1)
    consent = await decide(client, user, {"granted": True, "platform": "apple_health", "policy_version": "v3"})
    assert (consent["basis"], consent["platform"], consent["policy_version"]) == ("explicit", "apple_health", "v3")
    assert [e["metadata"]["basis"] for e in await events(client, user, "health_consent_granted")] == [
        "explicit",
        "first_sync",
    ]


# Withdrawal -----------------------------------------------------------------------------------


async def test_after_withdrawal_syncs_and_imports_are_refused_and_store_nothing(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await sync(client, user, full_sync(clock))
    clock.advance(minutes=30)
    withdrawn = await decide(client, user, {"granted": False})
    assert withdrawn["status"] == "withdrawn"
    assert instant(withdrawn["withdrawn_at"]) == clock.now()
    [event] = await events(client, user, "health_consent_withdrawn")
    assert event["metadata"]["basis"] == "explicit"
    rows_before = await total_rows(client, user)

    refused = await client.post(
        SYNC, headers=user.headers, json={**FULL_VALUES, "steps": 15000, "synced_at": iso(clock.now())}
    )
    assert_problem(refused, 403, "HEALTH_CONSENT_WITHDRAWN")
    data = export_xml(record("StepCount", 4200, "2026-03-08 18:00:00 +0100", unit="count"))
    assert_problem(await upload(client, user, data), 403, "HEALTH_CONSENT_WITHDRAWN")
    assert await total_rows(client, user) == rows_before
    assert [s["value"] for s in await history(client, user, "steps")] == [FULL_VALUES["steps"]]
    assert len(await events(client, user, "health_synced")) == 1  # only the sync before the withdrawal

    # The data already stored stays readable until the person deletes it.
    assert (await context(client, user))["has_data"] is True
    assert (await status_of(client, user))["consent"]["status"] == "withdrawn"


async def test_withdrawing_twice_keeps_the_first_instant(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    first = await decide(client, user, {"granted": False})
    clock.advance(minutes=40)
    assert await decide(client, user, {"granted": False}) == first
    assert len(await events(client, user, "health_consent_withdrawn")) == 1


async def test_granting_again_lets_syncs_through(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user = await anonymous_user(app)
    await decide(client, user, {"granted": False})
    assert_problem(await client.post(SYNC, headers=user.headers, json=full_sync(clock)), 403)
    clock.advance(minutes=10)
    regranted = await decide(client, user, {"granted": True})
    assert (regranted["status"], regranted["withdrawn_at"]) == ("granted", None)
    assert instant(regranted["granted_at"]) == clock.now()
    await sync(client, user, full_sync(clock))
    assert await total_rows(client, user) == len(HEALTH_TYPES)


# Deleting device data -------------------------------------------------------------------------


async def test_deleting_device_data_needs_confirmation_and_deletes_nothing_without_it(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await sync(client, user, full_sync(clock))
    for params in ({}, {"confirm": "false"}):
        assert_problem(await client.delete(DATA, headers=user.headers, params=params), 400, "CONFIRMATION_REQUIRED")
    assert await total_rows(client, user) == len(HEALTH_TYPES)
    assert_problem(await client.delete(DATA, headers=user.headers, params={"confirm": "maybe"}), 422)


async def test_deleting_device_data_keeps_manual_values_lab_results_and_other_people(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    other = await anonymous_user(app)
    for person in (user, other):
        await sync(client, person, full_sync(clock))
    assert len(await history(client, user, "recovery_score")) == 1  # computed with the sync
    manual = ok(
        await client.post(
            METRICS,
            headers=user.headers,
            json={"metric_type": "weight_kg", "value": 79.0, "timestamp": iso(clock.now() - timedelta(days=1))},
        ),
        201,
    )
    identity_id = uuid.UUID(user.id)

    async def lab(uow: UnitOfWork) -> None:
        result = Measurement(metric_type="biomarker_hdl", value=1.4, timestamp=clock.now() - timedelta(days=3))
        await metrics(uow).store(identity_id, [result], source=MetricSource.LAB_REPORT)

    await in_unit_of_work(app, lab)

    body = ok(await client.delete(DATA, headers=user.headers, params={"confirm": "true"}))
    assert body == {"deleted": len(HEALTH_TYPES) + 1}  # seven readings and the day's recovery score
    assert [m["id"] for m in await history(client, user, "weight_kg")] == [manual["id"]]
    assert len(await history(client, user, "biomarker_hdl")) == 1
    assert await history(client, user, "recovery_score") == []
    for metric_type in HEALTH_TYPES:
        if metric_type != "weight_kg":
            assert await history(client, user, metric_type) == [], metric_type
    [event] = await events(client, user, "health_data_deleted")
    assert event["metadata"] == {"deleted": len(HEALTH_TYPES) + 1}
    # The other person's data and the consent decision are untouched.
    assert await total_rows(client, other) == len(HEALTH_TYPES)
    assert (await consent_of(client, user))["status"] == "granted"
    status = await status_of(client, user)
    assert (status["is_connected"], status["synced_metrics"]) == (False, [])
    # Deleting again finds nothing.
    assert ok(await client.delete(DATA, headers=user.headers, params={"confirm": "true"})) == {"deleted": 0}


# Validation and access ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"granted": "yes"},
        {"granted": 1},
        {"granted": None},
        {"granted": True, "platform": "fitbit"},
        {"granted": True, "policy_version": ""},
        {"granted": True, "policy_version": "v1\x00"},
        {"granted": True, "policy_version": "x" * 41},
        {"granted": True, "policy_version": "<script>"},
        {"granted": True, "surprise": 1},
    ],
)
async def test_a_malformed_decision_is_refused_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    user = await anonymous_user(app)
    assert_problem(await client.put(CONSENT, headers=user.headers, json=body), 422)
    assert (await consent_of(client, user))["status"] == "not_recorded"


async def test_consent_and_deletion_need_a_signed_in_person(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(CONSENT), 401)
    assert_problem(await client.put(CONSENT, json={"granted": True}), 401)
    assert_problem(await client.delete(DATA, params={"confirm": "true"}), 401)


async def test_one_persons_decision_does_not_touch_another(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    other = await anonymous_user(app)
    await decide(client, user, {"granted": False})
    assert (await consent_of(client, other))["status"] == "not_recorded"
    await sync(client, other, full_sync(clock))


# Concurrency ----------------------------------------------------------------------------------


async def test_parallel_first_syncs_record_consent_once(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    payloads = [{"steps": 1000 * (i + 1), "synced_at": iso(clock.now() - timedelta(days=i))} for i in range(5)]
    responses = await asyncio.gather(*(client.post(SYNC, headers=user.headers, json=p) for p in payloads))
    assert [r.status_code for r in responses] == [201] * 5, [r.text for r in responses]
    assert await count_rows(app, "health_consents", user.id) == 1
    assert len(await events(client, user, "health_consent_granted")) == 1


async def test_parallel_identical_decisions_leave_one_record_and_one_event(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    body = {"granted": True, "platform": "apple_health", "policy_version": "v2"}
    responses = await asyncio.gather(*(client.put(CONSENT, headers=user.headers, json=body) for _ in range(5)))
    assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
    assert len({r.json()["granted_at"] for r in responses}) == 1
    assert await count_rows(app, "health_consents", user.id) == 1
    assert len(await events(client, user, "health_consent_granted")) == 1


# Personal data --------------------------------------------------------------------------------


async def test_the_consent_record_is_exported_and_erased_with_the_account(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await decide(client, user, {"granted": True, "platform": "health_connect", "policy_version": "v1"})
    exported = ok(await client.get(EXPORT, headers=user.headers))["modules"]["health_sync"]["consent"]
    assert (exported["status"], exported["platform"], exported["policy_version"]) == (
        "granted",
        "health_connect",
        "v1",
    )
    ok(await client.delete(ALL_DATA, headers=user.headers, params={"confirm": "true"}))
    assert await count_rows(app, "health_consents", user.id) == 0


async def test_anonymising_drops_the_consent_record(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await decide(client, user, {"granted": False})
    ok(await client.post(ANONYMIZE, headers=user.headers))
    assert await count_rows(app, "health_consents", user.id) == 0


async def test_after_withdrawal_device_values_sent_to_the_metrics_endpoint_are_refused_too(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await decide(client, user, {"granted": False})
    device = {"metric_type": "health_hrv", "value": 48, "source": "device_sync", "timestamp": iso(clock.now())}
    assert_problem(await client.post(METRICS, headers=user.headers, json=device), 403, "HEALTH_CONSENT_WITHDRAWN")
    assert await history(client, user, "health_hrv") == []
    # Values the person types in are not device sync.
    typed = {**device, "source": "user_input"}
    ok(await client.post(METRICS, headers=user.headers, json=typed), 201)
    # With no decision recorded, a device value records consent like a first sync.
    other = await anonymous_user(app)
    ok(await client.post(METRICS, headers=other.headers, json=device), 201)
    assert (await consent_of(client, other))["basis"] == "first_sync"
