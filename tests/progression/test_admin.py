"""Granting XP and recording streak days by hand are admin tools: nobody can grant themselves XP
or choose their own activity dates."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from tests.factories import admin_user, anonymous_user, email_user
from tests.progression.helpers import (
    ACTIVITY,
    GRANT_XP,
    LEVEL,
    MINE,
    OVERVIEW,
    STREAKS,
    XP_HISTORY,
    grant_xp,
    ledger,
    level,
    log_fast_on,
    ok,
    streak,
)


async def test_normal_user_cannot_grant_xp(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await email_user(app)
    response = await client.post(GRANT_XP, headers=user.headers, json={"amount": 5000, "identity_id": user.id})
    assert response.status_code == 403, response.text
    assert response.json()["code"]
    assert (await level(client, user))["total_xp_earned"] == 0
    assert await ledger(client, user) == []


async def test_normal_user_cannot_record_activity(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        ACTIVITY, headers=user.headers, json={"streak_type": "fasting", "activity_date": "2026-03-09"}
    )
    assert response.status_code == 403, response.text
    assert (await streak(client, user))["current_count"] == 0


async def test_admin_tools_need_authentication(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert (await client.post(GRANT_XP, json={"amount": 10})).status_code == 401
    assert (await client.post(ACTIVITY, json={"streak_type": "fasting"})).status_code == 401


async def test_admin_grants_xp_to_another_person(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)
    response = await client.post(
        GRANT_XP,
        headers=admin.headers,
        json={"identity_id": user.id, "amount": 150, "description": "Support goodwill"},
    )
    body = ok(response, 201)
    assert body["identity_id"] == user.id
    assert (body["total_xp_earned"], body["current_level"], body["current_xp"]) == (150, 2, 50)
    assert await level(client, user) == body
    rows = await ledger(client, user)
    assert [(r["amount"], r["transaction_type"], r["description"]) for r in rows] == [
        (150, "manual", "Support goodwill")
    ]
    assert (await level(client, admin))["total_xp_earned"] == 0


async def test_admin_grant_to_an_unknown_identity_is_404(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await admin_user(app)
    response = await client.post(GRANT_XP, headers=admin.headers, json={"identity_id": str(uuid.uuid4()), "amount": 5})
    assert response.status_code == 404, response.text
    assert response.json()["code"] == "IDENTITY_NOT_FOUND"


async def test_admin_grant_of_zero_or_negative_xp_is_422(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)
    for amount in (0, -100):
        response = await client.post(GRANT_XP, headers=admin.headers, json={"identity_id": user.id, "amount": amount})
        assert response.status_code == 422, response.text
    assert (await level(client, user))["total_xp_earned"] == 0


async def test_admin_records_a_streak_day_for_another_person(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)
    first = ok(
        await client.post(
            ACTIVITY,
            headers=admin.headers,
            json={"identity_id": user.id, "streak_type": "fasting", "activity_date": "2026-03-09"},
        ),
        201,
    )
    assert first["streak"]["identity_id"] == user.id
    assert first["streak"]["current_count"] == 1
    second = ok(
        await client.post(ACTIVITY, headers=admin.headers, json={"identity_id": user.id, "streak_type": "fasting"}),
        201,
    )
    assert second["streak"]["current_count"] == 2
    assert second["streak"]["last_activity_date"] == "2026-03-10"
    assert (await streak(client, user))["current_count"] == 2
    assert (await streak(client, admin))["current_count"] == 0


async def test_admin_recorded_day_before_the_run_repairs_it_from_the_fasts_logged(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)
    await log_fast_on(client, user, 7)
    await log_fast_on(client, user, 9)
    await log_fast_on(client, user, 10)
    body = ok(
        await client.post(
            ACTIVITY,
            headers=admin.headers,
            json={"identity_id": user.id, "streak_type": "fasting", "activity_date": "2026-03-08"},
        ),
        201,
    )
    assert (body["streak"]["current_count"], body["streak"]["started_at"]) == (4, "2026-03-07")
    assert body["xp_earned"] == 25 + 50  # rebuilt run's 3-day bonus, Getting Started (no base XP)
    assert body["level_up"] is False
    assert body["new_level"] is None


async def test_admin_activity_for_an_unknown_identity_is_404(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await admin_user(app)
    response = await client.post(
        ACTIVITY, headers=admin.headers, json={"identity_id": str(uuid.uuid4()), "streak_type": "workout"}
    )
    assert response.status_code == 404, response.text


async def test_admin_activity_in_the_future_is_422_and_changes_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)
    response = await client.post(
        ACTIVITY,
        headers=admin.headers,
        json={"identity_id": user.id, "streak_type": "fasting", "activity_date": "2026-03-11"},
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await streak(client, user))["last_activity_date"] is None


async def test_identity_id_in_the_query_is_ignored_and_never_reveals_another_person(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admin = await admin_user(app)
    rich = await anonymous_user(app)
    user = await anonymous_user(app)
    await grant_xp(client, admin, rich, 500)
    for path in (LEVEL, OVERVIEW, XP_HISTORY, STREAKS, MINE):
        response = await client.get(path, headers=user.headers, params={"identity_id": rich.id})
        assert response.status_code == 200, (path, response.text)
        assert rich.id not in response.text, path
    assert (await level(client, user))["total_xp_earned"] == 0
