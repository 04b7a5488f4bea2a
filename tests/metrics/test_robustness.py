"""Every metrics route needs a signed-in caller, and no input, however odd, gets a 500."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import anonymous_user
from tests.metrics.helpers import (
    AGGREGATE,
    BY_PREFIX,
    GROUPED,
    HISTORY,
    LATEST,
    METRICS,
    SUMMARY,
    TREND,
    assert_problem,
    ok,
    record,
    set_timezone,
    stored_rows,
)

SOME_ID = "6b1f4e0a-1111-4222-8333-944445555666"

ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", METRICS, {"json": {"metric_type": "weight_kg", "value": 80}}),
    ("GET", LATEST, {"params": {"metric_type": "weight_kg"}}),
    ("GET", HISTORY, {"params": {"metric_type": "weight_kg"}}),
    ("GET", BY_PREFIX, {"params": {"prefix": "biomarker_"}}),
    ("GET", TREND, {"params": {"metric_type": "weight_kg"}}),
    ("GET", AGGREGATE, {"params": {"metric_type": "weight_kg", "operation": "avg"}}),
    ("GET", SUMMARY, {"params": {"metric_type": "weight_kg"}}),
    ("GET", GROUPED, {}),
    ("DELETE", METRICS, {"params": {"confirm": "true"}}),
    ("GET", f"{METRICS}/{SOME_ID}", {}),
    ("PUT", f"{METRICS}/{SOME_ID}", {"json": {"note": "x"}}),
    ("DELETE", f"{METRICS}/{SOME_ID}", {}),
]


@pytest.mark.parametrize(("method", "path", "extra"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
async def test_every_route_needs_a_signed_in_caller(
    app: FastAPI, client: httpx.AsyncClient, method: str, path: str, extra: dict[str, Any]
) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic dXNlcjpwYXNz"}):
        response = await client.request(method, path, headers=headers, **extra)
        assert_problem(response, 401, "UNAUTHORIZED")


async def test_without_a_token_nothing_is_deleted(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await record(client, user, "steps", 100)
    assert_problem(await client.delete(METRICS, params={"confirm": "true"}), 401)
    assert len(await stored_rows(app, identity_id=user.id)) == 1


ODD_BODIES = [
    '{"metric_type": "weight_kg", "value": 1e308}',
    '{"metric_type": "weight_kg", "value": -1e308}',
    '{"metric_type": "custom_big", "value": 1e10}',
    '{"metric_type": "custom_big", "value": 123456789012345678901234567890}',
    '{"metric_type": "weight_kg", "value": "80"}',
    '{"metric_type": "weight_kg", "value": "eighty"}',
    '{"metric_type": "weight_kg", "value": [80]}',
    '{"metric_type": "weight_kg", "value": {"kg": 80}}',
    '{"metric_type": 42, "value": 80}',
    '{"metric_type": null, "value": 80}',
    '{"metric_type": "", "value": 80}',
    '{"metric_type": "' + "x" * 101 + '", "value": 80}',
    '{"metric_type": "custom_' + "x" * 93 + '", "value": 1}',
    '{"metric_type": "weight_kg\\u0000", "value": 80}',
    '{"metric_type": "custom_x", "value": 1, "note": "nul \\u0000 here"}',
    '{"metric_type": "custom_x", "value": 1, "unit": "\\u0000"}',
    '{"metric_type": "custom_x", "value": 1, "note": "' + "n" * 1001 + '"}',
    '{"metric_type": "custom_x", "value": 1, "unit": "' + "u" * 51 + '"}',
    '{"metric_type": "custom_x", "value": 1, "flag": "very high"}',
    '{"metric_type": "custom_x", "value": 1, "source": "satellite"}',
    '{"metric_type": "custom_x", "value": 1, "reference_low": 1e400}',
    '{"metric_type": "custom_x", "value": 1, "timestamp": "9999-12-31T23:59:59-14:00"}',
    '{"metric_type": "custom_x", "value": 1, "timestamp": "0001-01-01T00:00:00+14:00"}',
    '{"metric_type": "custom_x", "value": 1, "timestamp": 1741600000}',
    '{"metric_type": "custom_x", "value": 1, "timestamp": "2026-13-01T00:00:00Z"}',
    "[]",
    "null",
    '"weight"',
    "{",
    "",
]


async def test_odd_bodies_are_answered_without_a_server_error(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    headers = {**user.headers, "Content-Type": "application/json"}
    for body in ODD_BODIES:
        response = await client.post(METRICS, headers=headers, content=body)
        assert response.status_code < 500, (body[:80], response.text)
        if response.status_code >= 400:
            assert_problem(response, response.status_code)


async def test_odd_updates_are_answered_without_a_server_error(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    stored = await record(client, user, "biomarker_ldl", 3.1, unit="mmol/L")
    headers = {**user.headers, "Content-Type": "application/json"}
    for body in (
        '{"value": 1e400}',
        '{"value": "x"}',
        '{"note": "\\u0000"}',
        '{"unit": "\\u0000"}',
        '{"flag": 7}',
        "[]",
    ):
        response = await client.put(f"{METRICS}/{stored['id']}", headers=headers, content=body)
        assert_problem(response, 422)
    after = ok(await client.get(f"{METRICS}/{stored['id']}", headers=user.headers))
    assert (after["value"], after["unit"], after["note"]) == (3.1, "mmol/L", None)


ODD_QUERIES: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", LATEST, {"metric_type": "weight\x00kg"}),
    ("GET", LATEST, {"metric_type": "x" * 101}),
    ("GET", HISTORY, {"metric_type": "steps", "limit": "10" * 20}),
    ("GET", HISTORY, {"metric_type": "steps", "offset": "-5"}),
    ("GET", HISTORY, {"metric_type": "steps", "start_time": "0001-01-01T00:00:00+14:00"}),
    ("GET", HISTORY, {"metric_type": "steps", "end_time": "9999-12-31T23:59:59-14:00"}),
    ("GET", HISTORY, {"metric_type": "steps", "start_time": "99999999999999999999"}),
    ("GET", BY_PREFIX, {"prefix": "\x00"}),
    ("GET", BY_PREFIX, {"prefix": "\\"}),
    ("GET", BY_PREFIX, {"prefix": "biomarker_", "limit": 5001}),
    ("GET", TREND, {"metric_type": "steps", "period_days": "1e3"}),
    ("GET", TREND, {"metric_type": "steps", "period_days": str(2**70)}),
    ("GET", TREND, {"metric_type": "\x00"}),
    ("GET", AGGREGATE, {"metric_type": "steps", "operation": "sum; DROP TABLE metrics"}),
    ("GET", AGGREGATE, {"metric_type": "st\x00eps", "operation": "sum"}),
    ("GET", SUMMARY, {"metric_type": "\x00"}),
    ("GET", SUMMARY, {}),
    ("GET", GROUPED, {"limit": "many"}),
    ("DELETE", METRICS, {"metric_type": "\x00"}),
    ("DELETE", METRICS, {"before": "tomorrow"}),
    ("DELETE", METRICS, {"confirm": "maybe"}),
    ("GET", f"{METRICS}/not-a-uuid", {}),
    ("GET", f"{METRICS}/{SOME_ID}x", {}),
    ("GET", f"{METRICS}/{'9' * 300}", {}),
    ("PUT", f"{METRICS}/12345", {}),
    ("DELETE", f"{METRICS}/%00", {}),
]


async def test_odd_queries_and_ids_are_answered_without_a_server_error(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await record(client, user, "steps", 100)
    for method, path, params in ODD_QUERIES:
        extra: dict[str, Any] = {"json": {"note": "x"}} if method == "PUT" else {}
        response = await client.request(method, path, headers=user.headers, params=params, **extra)
        assert response.status_code < 500, (method, path, params, response.text)
        if response.status_code >= 400:
            assert_problem(response, response.status_code)
    assert len(await stored_rows(app, identity_id=user.id)) == 1  # no odd delete removed anything


async def test_a_timestamp_before_1900_is_refused_so_every_read_can_place_it_on_a_local_day(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await set_timezone(client, user, "America/New_York")
    for timestamp in ("0001-01-01T00:00:00Z", "1899-12-31T23:59:59Z"):
        response = await client.post(
            METRICS,
            headers=user.headers,
            json={"metric_type": "biomarker_ferritin", "value": 80, "timestamp": timestamp},
        )
        assert_problem(response, 422, "INVALID_METRIC")
    await record(client, user, "biomarker_ferritin", 80, timestamp="1900-01-01T12:00:00Z")
    [group] = ok(await client.get(GROUPED, headers=user.headers))
    assert group["test_date"] == "1900-01-01"
