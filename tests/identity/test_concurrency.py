"""Races a real client can cause: double-tapped refreshes, parallel first launches, double
submissions. Each request runs on its own connection, as in production."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from tests.conftest import client_for
from tests.factories import anonymous_user, fresh_ip
from tests.identity.helpers import (
    AUTHENTICATE,
    REFRESH,
    REGISTER,
    UPGRADE,
    assert_problem,
    authenticate,
    bearer,
    new_device_id,
)


async def _post_concurrently(
    app: FastAPI, url: str, bodies: list[dict[str, Any]], headers: dict[str, str] | None = None
) -> list[httpx.Response]:
    clients = [client_for(app, fresh_ip()) for _ in bodies]
    try:
        return list(
            await asyncio.gather(
                *(c.post(url, json=body, headers=headers) for c, body in zip(clients, bodies, strict=True))
            )
        )
    finally:
        for c in clients:
            await c.aclose()


async def test_two_refreshes_with_the_same_token_at_once_give_one_200_and_one_401(app: FastAPI) -> None:
    user = await anonymous_user(app)

    responses = await _post_concurrently(app, REFRESH, [{"refresh_token": user.refresh_token}] * 2)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 401], [r.text for r in responses]
    loser = next(r for r in responses if r.status_code == 401)
    assert loser.json()["code"] in {"REFRESH_TOKEN_REUSED", "INVALID_REFRESH_TOKEN"}
    assert loser.json()["request_id"]


async def test_ten_concurrent_first_sign_ins_with_one_device_id_make_one_identity(app: FastAPI) -> None:
    device_id = new_device_id()

    responses = await _post_concurrently(app, AUTHENTICATE, [{"provider": "anonymous", "token": device_id}] * 10)

    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
    assert len({r.json()["identity"]["id"] for r in responses}) == 1
    async with app.state.sessions.reader() as session:
        identities = (await session.execute(text("SELECT COUNT(*) FROM identities"))).scalar_one()
    assert identities == 1


async def test_two_concurrent_registrations_of_one_email_give_one_201_and_one_409(app: FastAPI) -> None:
    bodies = [
        {"email": "race@example.com", "password": "first password"},
        {"email": "Race@Example.com", "password": "second password"},
    ]

    responses = await _post_concurrently(app, REGISTER, bodies)

    assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
    assert_problem(next(r for r in responses if r.status_code == 409), 409, "EMAIL_ALREADY_REGISTERED")
    winner = responses[0] if responses[0].status_code == 201 else responses[1]
    winning_password = bodies[responses.index(winner)]["password"]
    login = await authenticate(app, {"provider": "email", "email": "race@example.com", "password": winning_password})
    assert login.json()["identity"]["id"] == winner.json()["identity"]["id"]


async def test_two_concurrent_upgrades_of_one_account_link_only_one_credential(app: FastAPI) -> None:
    user = await anonymous_user(app)
    bodies = [
        {"provider": "email", "email": "one@example.com", "password": "password one"},
        {"provider": "email", "email": "two@example.com", "password": "password two"},
    ]

    responses = await _post_concurrently(app, UPGRADE, bodies, headers=bearer(user.access_token))

    statuses = sorted(r.status_code for r in responses)
    assert statuses[0] == 200, [r.text for r in responses]
    assert statuses[1] in {401, 409}, [r.text for r in responses]
    logins = [
        await authenticate(app, {"provider": "email", "email": b["email"], "password": b["password"]}) for b in bodies
    ]
    assert sorted(r.status_code for r in logins) == [200, 401]
    assert next(r for r in logins if r.status_code == 200).json()["identity"]["id"] == user.id


async def test_concurrent_sign_ins_with_different_device_ids_all_succeed(app: FastAPI) -> None:
    bodies = [{"provider": "anonymous", "token": new_device_id()} for _ in range(5)]

    responses = await _post_concurrently(app, AUTHENTICATE, bodies)

    assert Counter(r.status_code for r in responses) == {200: 5}
    assert len({r.json()["identity"]["id"] for r in responses}) == 5
