"""Personal access tokens: made for a person's own integrations, shown once, stored hashed,
limited to their scopes on every route (default deny), revocable, expiring, journalled, erased
with the account."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from sqlalchemy import text

from src.core.clock import FrozenClock
from src.core.scopes import OPENAPI_KEY
from tests.factories import User, anonymous_user, fresh_token
from tests.http import assert_problem, ok
from tests.support import count_rows

API = "/api/v1"
TOKENS = f"{API}/identity/tokens"
FEED = f"{API}/events/feed"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_enabled": False}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def make_token(client: httpx.AsyncClient, user: User, *scopes: str, days: int = 30) -> dict[str, Any]:
    body = {"name": "my script", "scopes": list(scopes), "expires_in_days": days}
    return ok(await client.post(TOKENS, headers=user.headers, json=body), 201)  # type: ignore[no-any-return]


async def test_token_is_shown_once_and_stored_only_as_a_keyed_hash(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    created = await make_token(client, user, "metrics:read")
    token = created["token"]
    assert token.startswith("ugoki_pat_")
    assert created["scopes"] == ["metrics:read"]
    assert created["hint"] == token[:14] + "…"

    listed = ok(await client.get(TOKENS, headers=user.headers))
    assert [t["id"] for t in listed] == [created["id"]]
    assert "token" not in listed[0]
    async with app.state.sessions.reader() as session:
        row = (await session.execute(text("SELECT * FROM personal_access_tokens"))).mappings().one()
    assert token not in {str(value) for value in row.values()}
    assert row["token_hash"] != token


async def test_metrics_read_token_reads_metrics(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.post(f"{API}/metrics", headers=user.headers, json={"metric_type": "weight_kg", "value": 70.5}), 201)
    token = (await make_token(client, user, "metrics:read"))["token"]

    latest = ok(await client.get(f"{API}/metrics/latest", params={"metric_type": "weight_kg"}, headers=bearer(token)))
    assert latest["value"] == 70.5
    history = ok(await client.get(f"{API}/metrics/history", params={"metric_type": "weight_kg"}, headers=bearer(token)))
    assert len(history) == 1


def _concrete_path(path: str) -> str:
    return re.sub(r"\{([^}:]+)(:[^}]*)?\}", lambda m: str(uuid.uuid4()) if "id" in m[1] else "x", path)


async def test_metrics_read_token_is_refused_on_every_other_route(app: FastAPI, client: httpx.AsyncClient) -> None:
    """Walks every route of the app: the token works only where `metrics:read` is declared."""
    user = await anonymous_user(app)
    token = (await make_token(client, user, "metrics:read"))["token"]
    allowed: list[str] = []
    refused = 0
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or context.path is None:
            continue
        scope = (route.openapi_extra or {}).get(OPENAPI_KEY)
        for method in sorted(route.methods):
            path = _concrete_path(context.path)
            response = await client.request(method, path, headers=bearer(token), json={})
            if scope == "metrics:read":
                assert response.status_code != 403, (method, context.path, response.text)
                allowed.append(f"{method} {context.path}")
            else:
                assert_problem(response, 403, "TOKEN_SCOPE_MISSING")
                refused += 1
    assert "GET /api/v1/metrics/latest" in allowed
    assert "POST /api/v1/metrics" not in allowed
    assert refused > 50


async def test_scopes_are_checked_per_route(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    token = (await make_token(client, user, "fasting:read", "fasting:write", "profile:read"))["token"]
    opened = ok(
        await client.post(f"{API}/time-keeper/windows", headers=bearer(token), json={"window_type": "fast"}), 201
    )
    assert opened["state"] == "active"
    ok(await client.get(f"{API}/time-keeper/windows/active", headers=bearer(token)))
    assert_problem(await client.get(f"{API}/metrics/latest?metric_type=weight_kg", headers=bearer(token)), 403)
    # The health sections of the profile are not part of profile:read.
    assert_problem(await client.get(f"{API}/profile/health", headers=bearer(token)), 403, "TOKEN_SCOPE_MISSING")
    assert_problem(await client.get(f"{API}/profile/export", headers=bearer(token)), 403, "TOKEN_SCOPE_MISSING")


async def test_a_token_cannot_make_tokens_or_sign_out(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    token = (await make_token(client, user, *["fasting:read", "metrics:read", "profile:read", "export:read"]))["token"]
    body = {"name": "escalate", "scopes": ["metrics:write"]}
    assert_problem(await client.post(TOKENS, headers=bearer(token), json=body), 403, "TOKEN_SCOPE_MISSING")
    assert_problem(await client.post(f"{API}/identity/logout", headers=bearer(token)), 403)


async def test_revoked_and_expired_tokens_stop_working(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    first = await make_token(client, user, "metrics:read", days=1)
    second = await make_token(client, user, "metrics:read", days=30)
    url = f"{API}/metrics/latest?metric_type=weight_kg"
    ok(await client.get(url, headers=bearer(first["token"])))

    revoked = ok(await client.delete(f"{TOKENS}/{second['id']}", headers=user.headers))
    assert revoked["revoked_at"] is not None
    assert_problem(await client.get(url, headers=bearer(second["token"])), 401)

    clock.advance(timedelta(days=1, seconds=1))
    assert_problem(await client.get(url, headers=bearer(first["token"])), 401)
    assert_problem(await client.get(url, headers=bearer("ugoki_pat_not-a-real-token")), 401)


async def test_someone_elses_token_cannot_be_revoked(app: FastAPI, client: httpx.AsyncClient) -> None:
    owner, other = await anonymous_user(app), await anonymous_user(app)
    created = await make_token(client, owner, "metrics:read")
    assert_problem(
        await client.delete(f"{TOKENS}/{created['id']}", headers=other.headers), 404, "PERSONAL_TOKEN_NOT_FOUND"
    )


async def test_the_journal_records_a_tokens_use_at_most_once_an_hour(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    token = (await make_token(client, user, "metrics:read", "metrics:write"))["token"]
    for _ in range(3):
        ok(await client.get(f"{API}/metrics/latest?metric_type=weight_kg", headers=bearer(token)))
    ok(await client.post(f"{API}/metrics", headers=bearer(token), json={"metric_type": "weight_kg", "value": 71}), 201)

    async def uses() -> int:
        feed = ok(await client.get(FEED, params={"limit": 100}, headers=user.headers))
        return sum(1 for event in feed if event["event_type"] == "personal_token_used")

    assert await uses() == 1
    clock.advance(timedelta(minutes=61))
    await fresh_token(app, user)  # the app's own access token expired meanwhile
    ok(await client.post(f"{API}/metrics", headers=bearer(token), json={"metric_type": "weight_kg", "value": 72}), 201)
    ok(await client.get(f"{API}/metrics/latest?metric_type=weight_kg", headers=bearer(token)))
    assert await uses() == 2
    listed = ok(await client.get(TOKENS, headers=user.headers))
    assert listed[0]["last_used_at"] is not None


async def test_tokens_are_exported_without_secrets_and_erased_with_the_account(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    created = await make_token(client, user, "export:read")
    export = ok(await client.get(f"{API}/profile/export", headers=bearer(created["token"])))
    tokens = export["modules"]["identity"]["personal_access_tokens"]
    assert [t["id"] for t in tokens] == [created["id"]]
    assert created["token"] not in str(export)

    ok(await client.delete(f"{API}/profile/all-data", params={"confirm": "true"}, headers=user.headers))
    assert await count_rows(app, "personal_access_tokens") == 0
    assert_problem(await client.get(f"{API}/profile/export", headers=bearer(created["token"])), 401)


async def test_bad_token_requests_are_refused_with_422(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    for body in (
        {"name": "x", "scopes": ["admin"]},
        {"name": "x", "scopes": []},
        {"name": "", "scopes": ["metrics:read"]},
        {"name": "x", "scopes": ["metrics:read"], "expires_in_days": 366},
    ):
        assert_problem(await client.post(TOKENS, headers=user.headers, json=body), 422)


async def test_lab_results_need_labs_read_even_on_metrics_routes(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    lab = ok(
        await client.post(
            f"{API}/metrics",
            headers=user.headers,
            json={"metric_type": "biomarker_glucose", "value": 5.1, "unit": "mmol/L"},
        ),
        201,
    )
    ok(await client.post(f"{API}/metrics", headers=user.headers, json={"metric_type": "steps", "value": 9000}), 201)
    metrics_only = bearer((await make_token(client, user, "metrics:read"))["token"])
    with_labs = bearer((await make_token(client, user, "metrics:read", "labs:read"))["token"])

    for path, params in (
        ("/metrics/history", {"metric_type": "biomarker_glucose"}),
        ("/metrics/latest", {"metric_type": "BIOMARKER_glucose"}),
        ("/metrics/summary", {"metric_type": "biomarker_glucose"}),
        ("/metrics/by-prefix", {"prefix": "bio"}),
    ):
        assert_problem(await client.get(API + path, params=params, headers=metrics_only), 403, "TOKEN_SCOPE_MISSING")
        ok(await client.get(API + path, params=params, headers=with_labs))
    assert_problem(await client.get(f"{API}/metrics/{lab['id']}", headers=metrics_only), 404)
    assert ok(await client.get(f"{API}/metrics/{lab['id']}", headers=with_labs))["value"] == 5.1
    steps = ok(await client.get(f"{API}/metrics/history", params={"metric_type": "steps"}, headers=metrics_only))
    assert [m["value"] for m in steps] == [9000]
    # The app's own session reads everything, as before.
    ok(await client.get(f"{API}/metrics/history", params={"metric_type": "biomarker_glucose"}, headers=user.headers))
