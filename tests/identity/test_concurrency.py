"""Races a real client can cause: double-tapped refreshes, parallel first launches, double
submissions. Each request runs on its own connection, as in production."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import Session
from sqlalchemy.util import await_only

from tests.conftest import client_for
from tests.factories import anonymous_user, fresh_ip
from tests.identity.helpers import (
    AUTHENTICATE,
    LOGOUT,
    ME,
    REFRESH,
    REGISTER,
    UPGRADE,
    assert_problem,
    authenticate,
    bearer,
    new_device_id,
    refresh,
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


async def test_two_refreshes_with_the_same_token_at_once_give_one_200_and_one_401(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)

    responses = await _post_concurrently(app, REFRESH, [{"refresh_token": user.refresh_token}] * 2)

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 401], [r.text for r in responses]
    assert_problem(next(r for r in responses if r.status_code == 401), 401, "REFRESH_TOKEN_ALREADY_ROTATED")
    # The loser revoked nothing: the winner's new tokens keep the user signed in.
    winner = next(r for r in responses if r.status_code == 200).json()
    me = await client.get(ME, headers=bearer(winner["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["id"] == user.id
    assert (await refresh(app, winner["refresh_token"])).status_code == 200


async def test_a_request_during_a_logout_does_not_keep_the_ended_session_cached(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    during: list[int] = []

    def before_logout_commits(_session: Session) -> None:
        if during:
            return  # only the logout's own commit
        # The session is revoked but not committed: a request now still finds it live (and caches it).
        during.append(0)
        during[0] = await_only(client.get(ME, headers=user.headers)).status_code

    event.listen(Session, "before_commit", before_logout_commits)
    try:
        logout = await client.post(LOGOUT, headers=user.headers)
    finally:
        event.remove(Session, "before_commit", before_logout_commits)

    assert logout.status_code == 200, logout.text
    assert during == [200]
    assert_problem(await client.get(ME, headers=user.headers), 401, "UNAUTHORIZED")


async def test_a_session_lookup_read_before_a_logout_commits_is_not_cached_after_it(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    user = await anonymous_user(app)
    phase = ["armed"]
    read_done, logout_done = asyncio.Event(), asyncio.Event()
    racing: list[asyncio.Task[httpx.Response]] = []

    def before_logout_commits(_session: Session) -> None:
        if phase[0] != "armed":
            return
        phase[0] = "racing"
        racing.append(asyncio.get_running_loop().create_task(client.get(ME, headers=user.headers)))
        await_only(read_done.wait())  # commit only once the racing request has read the live session

    def after_racing_read(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if phase[0] == "racing" and statement.lstrip().upper().startswith("SELECT") and "auth_sessions" in statement:
            phase[0] = "done"
            read_done.set()
            await_only(logout_done.wait())  # and let it go on only after the logout committed

    event.listen(Session, "before_commit", before_logout_commits)
    event.listen(engine.sync_engine, "after_cursor_execute", after_racing_read)
    try:
        logout = await client.post(LOGOUT, headers=user.headers)
        logout_done.set()
        raced = await racing[0]
    finally:
        event.remove(Session, "before_commit", before_logout_commits)
        event.remove(engine.sync_engine, "after_cursor_execute", after_racing_read)

    assert logout.status_code == 200, logout.text
    assert raced.status_code == 200  # it read the session before the logout committed
    assert_problem(await client.get(ME, headers=user.headers), 401, "UNAUTHORIZED")


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
