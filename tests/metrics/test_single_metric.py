"""GET/PUT/DELETE /metrics/{id} (owner only; PUT changes what is sent, null clears) and the bulk
DELETE /metrics (a filter or an explicit confirm=true; only the caller's rows)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import User, anonymous_user
from tests.metrics.helpers import HISTORY, METRICS, assert_problem, ok, record, stored_rows, utc


async def lab_result(client: httpx.AsyncClient, user: User) -> dict[str, Any]:
    body: dict[str, Any] = await record(
        client,
        user,
        "biomarker_ldl",
        3.4,
        timestamp=utc(3, 5, 8),
        unit="mmol/L",
        reference_low=0.0,
        reference_high=3.0,
        flag="high",
        note="fasting sample",
    )
    return body


async def get(client: httpx.AsyncClient, user: User, metric_id: str) -> httpx.Response:
    return await client.get(f"{METRICS}/{metric_id}", headers=user.headers)


async def put(client: httpx.AsyncClient, user: User, metric_id: str, body: dict[str, Any]) -> httpx.Response:
    return await client.put(f"{METRICS}/{metric_id}", headers=user.headers, json=body)


# GET ---------------------------------------------------------------------------------------------


async def test_owner_reads_a_metric_by_id(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    stored = await lab_result(client, user)
    body = ok(await get(client, user, stored["id"]))
    rewards = {
        "xp_earned",
        "base_xp",
        "streak_bonus_xp",
        "achievement_xp",
        "credited",
        "credit_reason",
    }  # only in the answer to the POST
    assert body == {k: v for k, v in stored.items() if k not in rewards}
    assert (body["value"], body["unit"], body["flag"]) == (3.4, "mmol/L", "high")


async def test_another_persons_metric_is_not_found(app: FastAPI, client: httpx.AsyncClient) -> None:
    owner, stranger = await anonymous_user(app), await anonymous_user(app)
    stored = await lab_result(client, owner)
    assert_problem(await get(client, stranger, stored["id"]), 404, "METRIC_NOT_FOUND")


async def test_unknown_and_malformed_ids(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert_problem(await get(client, user, "6b1f4e0a-1111-4222-8333-944445555666"), 404, "METRIC_NOT_FOUND")
    assert_problem(await get(client, user, "not-a-uuid"), 422, "VALIDATION_ERROR")


# PUT ---------------------------------------------------------------------------------------------


async def test_put_changes_only_the_fields_sent(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user = await anonymous_user(app)
    stored = await lab_result(client, user)
    clock.advance(minutes=5)
    body = ok(await put(client, user, stored["id"], {"note": "retested", "value": 2.9}))
    assert (body["note"], body["value"]) == ("retested", 2.9)
    unchanged = ("unit", "reference_low", "reference_high", "flag", "timestamp", "metric_type", "created_at")
    assert {k: body[k] for k in unchanged} == {k: stored[k] for k in unchanged}
    assert body["updated_at"] == "2026-03-10T12:05:00Z"
    assert ok(await get(client, user, stored["id"]))["value"] == 2.9


async def test_put_null_clears_unit_flag_note_and_reference_range(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    stored = await lab_result(client, user)
    cleared = {"unit": None, "flag": None, "note": None, "reference_low": None, "reference_high": None}
    body = ok(await put(client, user, stored["id"], cleared))
    assert {k: body[k] for k in cleared} == cleared
    assert body["value"] == 3.4
    again = ok(await get(client, user, stored["id"]))
    assert {k: again[k] for k in cleared} == cleared


async def test_put_cannot_clear_the_value(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    stored = await lab_result(client, user)
    assert_problem(await put(client, user, stored["id"], {"value": None}), 422, "INVALID_METRIC")
    assert ok(await get(client, user, stored["id"]))["value"] == 3.4


async def test_put_value_is_checked_against_the_types_range(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    stored = await record(client, user, "weight_kg", 80.0)
    body = assert_problem(await put(client, user, stored["id"], {"value": 500}), 422, "INVALID_METRIC")
    assert "between 20 and 400 kg" in body["detail"]
    assert ok(await get(client, user, stored["id"]))["value"] == 80.0
    assert ok(await put(client, user, stored["id"], {"value": 400}))["value"] == 400.0


async def test_put_cannot_relabel_the_unit_of_a_known_type(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    stored = await record(client, user, "weight_kg", 80.0)
    for unit in ("lbs", None):
        body = assert_problem(await put(client, user, stored["id"], {"unit": unit}), 422, "INVALID_METRIC")
        assert "stored in kg" in body["detail"]
    after = ok(await get(client, user, stored["id"]))
    assert (after["value"], after["unit"]) == (80.0, "kg")
    # Sending the unit it already has is fine.
    assert ok(await put(client, user, stored["id"], {"unit": "kg", "note": "scale at the gym"}))["unit"] == "kg"


async def test_put_reference_low_above_the_stored_high_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    stored = await lab_result(client, user)  # range 0.0 – 3.0
    assert_problem(await put(client, user, stored["id"], {"reference_low": 5.0}), 422, "INVALID_METRIC")
    assert ok(await get(client, user, stored["id"]))["reference_low"] == 0.0


@pytest.mark.parametrize(("field", "literal"), [("value", "NaN"), ("reference_high", "Infinity")])
async def test_put_non_finite_numbers_are_refused(
    app: FastAPI, client: httpx.AsyncClient, field: str, literal: str
) -> None:
    user = await anonymous_user(app)
    stored = await lab_result(client, user)
    response = await client.put(
        f"{METRICS}/{stored['id']}",
        headers={**user.headers, "Content-Type": "application/json"},
        content=f'{{"{field}": {literal}}}',
    )
    assert_problem(response, 422)
    assert ok(await get(client, user, stored["id"]))[field] == stored[field]


async def test_put_on_another_persons_metric_is_not_found_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner, stranger = await anonymous_user(app), await anonymous_user(app)
    stored = await lab_result(client, owner)
    assert_problem(await put(client, stranger, stored["id"], {"note": "mine now"}), 404, "METRIC_NOT_FOUND")
    assert ok(await get(client, owner, stored["id"]))["note"] == "fasting sample"


# DELETE /{id} ------------------------------------------------------------------------------------


async def test_delete_answers_204_and_then_the_metric_is_gone(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    stored = await lab_result(client, user)
    response = await client.delete(f"{METRICS}/{stored['id']}", headers=user.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await get(client, user, stored["id"]), 404, "METRIC_NOT_FOUND")
    assert_problem(await client.delete(f"{METRICS}/{stored['id']}", headers=user.headers), 404, "METRIC_NOT_FOUND")


async def test_delete_of_another_persons_metric_is_not_found_and_keeps_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner, stranger = await anonymous_user(app), await anonymous_user(app)
    stored = await lab_result(client, owner)
    assert_problem(await client.delete(f"{METRICS}/{stored['id']}", headers=stranger.headers), 404, "METRIC_NOT_FOUND")
    assert ok(await get(client, owner, stored["id"]))["id"] == stored["id"]


# Bulk DELETE -------------------------------------------------------------------------------------


async def some_metrics(client: httpx.AsyncClient, user: User) -> None:
    for day in (1, 2, 3):
        await record(client, user, "steps", 1000 * day, timestamp=utc(3, day, 9))
        await record(client, user, "water_ml", 500 * day, timestamp=utc(3, day, 9))


async def count(app: FastAPI, user: User) -> int:
    return len(await stored_rows(app, identity_id=user.id))


async def test_bulk_delete_without_a_filter_or_confirm_is_refused_and_deletes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await some_metrics(client, user)
    for params in ({}, {"confirm": "false"}):
        body = assert_problem(await client.delete(METRICS, headers=user.headers, params=params), 422, "FILTER_REQUIRED")
        assert "confirm=true" in body["detail"]
    assert await count(app, user) == 6


async def test_bulk_delete_by_type_deletes_only_that_type(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await some_metrics(client, user)
    body = ok(await client.delete(METRICS, headers=user.headers, params={"metric_type": "steps"}))
    assert body == {"deleted": 3}
    assert ok(await client.get(HISTORY, headers=user.headers, params={"metric_type": "steps"})) == []
    assert len(ok(await client.get(HISTORY, headers=user.headers, params={"metric_type": "water_ml"}))) == 3


async def test_bulk_delete_before_deletes_only_older_measurements(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await some_metrics(client, user)
    body = ok(await client.delete(METRICS, headers=user.headers, params={"before": "2026-03-02T09:00:00Z"}))
    assert body == {"deleted": 2}  # the 1st; the 2nd at 09:00 is not before 09:00
    rows = ok(await client.get(HISTORY, headers=user.headers, params={"metric_type": "steps"}))
    assert [r["value"] for r in rows] == [3000, 2000]


async def test_bulk_delete_by_type_and_before_combines_both(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await some_metrics(client, user)
    params = {"metric_type": "water_ml", "before": "2026-03-03T00:00:00Z"}
    assert ok(await client.delete(METRICS, headers=user.headers, params=params)) == {"deleted": 2}
    assert await count(app, user) == 4


async def test_bulk_delete_with_confirm_deletes_everything_of_the_caller_only(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    me, other = await anonymous_user(app), await anonymous_user(app)
    await some_metrics(client, me)
    await some_metrics(client, other)
    assert ok(await client.delete(METRICS, headers=me.headers, params={"confirm": "true"})) == {"deleted": 6}
    assert await count(app, me) == 0
    assert await count(app, other) == 6
