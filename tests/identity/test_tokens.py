"""Access and refresh tokens: rotation, reuse detection, logout, expiry, deleted identities."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import timedelta

import httpx
import jwt
from fastapi import FastAPI
from sqlalchemy import delete

from src.core.clock import FrozenClock
from src.core.uow import UnitOfWork
from src.database import Base
from src.modules.identity import identity_service
from tests.factories import anonymous_user, email_user
from tests.identity.helpers import (
    LOGOUT,
    ME,
    REFRESH,
    assert_problem,
    bearer,
    feed_event_types,
    new_device_id,
    refresh,
    sign_in_anonymously,
)


async def test_me_returns_the_signed_in_identity(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    response = await client.get(ME, headers=user.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == user.id
    assert body["type"] == "anonymous"
    assert body["capabilities"] == []
    assert body["created_at"].endswith("Z") or body["created_at"].endswith("+00:00")


async def test_me_without_token_returns_401(client: httpx.AsyncClient) -> None:
    response = await client.get(ME)

    assert_problem(response, 401, "UNAUTHORIZED")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_refresh_returns_new_tokens_that_work(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    response = await refresh(app, user.refresh_token)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["identity"]["id"] == user.id
    assert body["refresh_token"] != user.refresh_token
    assert body["access_token"] != user.access_token
    me = await client.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == user.id
    again = await refresh(app, body["refresh_token"])
    assert again.status_code == 200, again.text


# Past the grace period in which a second presentation counts as the same client racing itself.
AFTER_GRACE = timedelta(seconds=11)


async def test_used_refresh_token_returns_401(app: FastAPI, clock: FrozenClock) -> None:
    user = await anonymous_user(app)
    assert (await refresh(app, user.refresh_token)).status_code == 200
    clock.advance(AFTER_GRACE)

    response = await refresh(app, user.refresh_token)

    assert_problem(response, 401, "REFRESH_TOKEN_REUSED")


async def test_reusing_refresh_token_revokes_the_whole_session(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    rotated = (await refresh(app, user.refresh_token)).json()
    clock.advance(AFTER_GRACE)

    reuse = await refresh(app, user.refresh_token)

    assert_problem(reuse, 401, "REFRESH_TOKEN_REUSED")
    # The newest tokens of that sign-in are dead too: the thief's and the owner's alike.
    assert_problem(await refresh(app, rotated["refresh_token"]), 401, "INVALID_REFRESH_TOKEN")
    assert_problem(await client.get(ME, headers=bearer(rotated["access_token"])), 401, "UNAUTHORIZED")
    assert_problem(await client.get(ME, headers=user.headers), 401, "UNAUTHORIZED")


async def test_reuse_revokes_only_that_session(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    device_id = new_device_id()
    phone = (await sign_in_anonymously(app, device_id)).json()
    tablet = (await sign_in_anonymously(app, device_id)).json()
    rotated_phone = (await refresh(app, phone["refresh_token"])).json()
    clock.advance(AFTER_GRACE)

    assert_problem(await refresh(app, phone["refresh_token"]), 401, "REFRESH_TOKEN_REUSED")

    assert_problem(await client.get(ME, headers=bearer(rotated_phone["access_token"])), 401, "UNAUTHORIZED")
    assert (await client.get(ME, headers=bearer(tablet["access_token"]))).status_code == 200
    assert (await refresh(app, tablet["refresh_token"])).status_code == 200


async def test_refresh_token_presented_again_at_once_is_refused_without_ending_the_session(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    # Two taps, or two parts of the app refreshing together: the second one is a race, not a theft.
    user = await anonymous_user(app)
    rotated = (await refresh(app, user.refresh_token)).json()
    clock.advance(seconds=9)

    again = await refresh(app, user.refresh_token)

    assert_problem(again, 401, "REFRESH_TOKEN_ALREADY_ROTATED")
    assert (await client.get(ME, headers=bearer(rotated["access_token"]))).status_code == 200
    assert (await refresh(app, rotated["refresh_token"])).status_code == 200
    assert "session_revoked" not in await feed_event_types(client, rotated["access_token"])


async def test_refresh_token_reuse_grace_ends_after_ten_seconds(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    rotated = (await refresh(app, user.refresh_token)).json()
    clock.advance(seconds=10)

    again = await refresh(app, user.refresh_token)

    assert_problem(again, 401, "REFRESH_TOKEN_REUSED")
    assert_problem(await client.get(ME, headers=bearer(rotated["access_token"])), 401, "UNAUTHORIZED")
    assert_problem(await refresh(app, rotated["refresh_token"]), 401, "INVALID_REFRESH_TOKEN")


async def test_unknown_refresh_token_returns_401(app: FastAPI) -> None:
    response = await refresh(app, "not-a-refresh-token-we-ever-issued")

    assert_problem(response, 401, "INVALID_REFRESH_TOKEN")


async def test_access_token_is_not_accepted_as_refresh_token(app: FastAPI) -> None:
    user = await anonymous_user(app)

    response = await refresh(app, user.access_token)

    assert_problem(response, 401, "INVALID_REFRESH_TOKEN")


async def test_refresh_token_is_not_accepted_as_access_token(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    response = await client.get(ME, headers=bearer(user.refresh_token))

    assert_problem(response, 401, "UNAUTHORIZED")


async def test_logout_ends_access_and_refresh_tokens_of_the_session(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert (await client.get(ME, headers=user.headers)).status_code == 200  # cached as a live session

    response = await client.post(LOGOUT, headers=user.headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"status": "logged_out"}
    assert_problem(await client.get(ME, headers=user.headers), 401, "UNAUTHORIZED")
    assert_problem(await refresh(app, user.refresh_token), 401, "INVALID_REFRESH_TOKEN")


async def test_logout_after_refresh_ends_the_rotated_tokens(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    rotated = (await refresh(app, user.refresh_token)).json()

    await client.post(LOGOUT, headers=bearer(rotated["access_token"]))

    assert_problem(await refresh(app, rotated["refresh_token"]), 401, "INVALID_REFRESH_TOKEN")
    assert_problem(await client.get(ME, headers=bearer(rotated["access_token"])), 401, "UNAUTHORIZED")


async def test_logout_leaves_other_sessions_signed_in(app: FastAPI, client: httpx.AsyncClient) -> None:
    device_id = new_device_id()
    phone = (await sign_in_anonymously(app, device_id)).json()
    tablet = (await sign_in_anonymously(app, device_id)).json()

    await client.post(LOGOUT, headers=bearer(phone["access_token"]))

    assert (await client.get(ME, headers=bearer(tablet["access_token"]))).status_code == 200
    assert (await refresh(app, tablet["refresh_token"])).status_code == 200


async def test_second_logout_with_same_token_returns_401(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await client.post(LOGOUT, headers=user.headers)

    response = await client.post(LOGOUT, headers=user.headers)

    assert_problem(response, 401, "UNAUTHORIZED")


async def test_access_token_works_until_60_minutes(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user = await anonymous_user(app)

    clock.advance(minutes=59)

    assert (await client.get(ME, headers=user.headers)).status_code == 200


async def test_access_token_expires_after_60_minutes(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    assert (await client.get(ME, headers=user.headers)).status_code == 200

    clock.advance(minutes=61)
    response = await client.get(ME, headers=user.headers)

    body = assert_problem(response, 401, "UNAUTHORIZED")
    assert "expired" in body["detail"].lower()


async def test_refresh_after_access_token_expired_gives_working_token(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    clock.advance(hours=5)

    response = await refresh(app, user.refresh_token)

    assert response.status_code == 200, response.text
    assert (await client.get(ME, headers=bearer(response.json()["access_token"]))).status_code == 200


async def test_refresh_token_expires_after_30_days(app: FastAPI, clock: FrozenClock) -> None:
    user = await anonymous_user(app)

    clock.advance(days=30, minutes=1)
    response = await refresh(app, user.refresh_token)

    assert_problem(response, 401, "INVALID_REFRESH_TOKEN")


def _with_payload(token: str, **changes: object) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


async def test_access_token_with_tampered_subject_returns_401(app: FastAPI, client: httpx.AsyncClient) -> None:
    attacker = await anonymous_user(app)
    victim = await anonymous_user(app)

    response = await client.get(ME, headers=bearer(_with_payload(attacker.access_token, sub=victim.id)))

    assert_problem(response, 401, "UNAUTHORIZED")


async def test_access_token_with_extended_expiry_returns_401(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    clock.advance(minutes=61)
    later = int(clock.now().timestamp()) + 3600

    response = await client.get(ME, headers=bearer(_with_payload(user.access_token, exp=later)))

    assert_problem(response, 401, "UNAUTHORIZED")


async def test_access_token_signed_with_another_secret_returns_401(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    claims = jwt.decode(user.access_token, options={"verify_signature": False})

    forged = jwt.encode(claims, "some-other-secret-that-is-long-enough-0123", algorithm="HS256")
    response = await client.get(ME, headers=bearer(forged))

    assert_problem(response, 401, "UNAUTHORIZED")


async def test_access_token_with_alg_none_returns_401(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    claims = jwt.decode(user.access_token, options={"verify_signature": False})

    forged = jwt.encode(claims, None, algorithm="none")
    response = await client.get(ME, headers=bearer(forged))

    assert_problem(response, 401, "UNAUTHORIZED")


async def _delete_identity_row(app: FastAPI, identity_id: str) -> None:
    identities = Base.metadata.tables["identities"]
    async with app.state.sessions.writer() as session:
        await session.execute(delete(identities).where(identities.c.id == uuid.UUID(identity_id)))
        await session.commit()


async def test_token_of_deleted_identity_returns_401(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert (await client.get(ME, headers=user.headers)).status_code == 200

    await _delete_identity_row(app, user.id)
    app.state.resources.principals.clear()  # what another worker sees once its short cache lapses
    response = await client.get(ME, headers=user.headers)

    assert_problem(response, 401, "UNAUTHORIZED")


async def test_refresh_token_of_deleted_identity_returns_401(app: FastAPI) -> None:
    user = await anonymous_user(app)

    await _delete_identity_row(app, user.id)
    response = await refresh(app, user.refresh_token)

    assert_problem(response, 401, "INVALID_REFRESH_TOKEN")


async def test_erased_identity_tokens_stop_working_at_once(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await email_user(app)
    assert (await client.get(ME, headers=user.headers)).status_code == 200  # the session is now cached

    async with app.state.sessions.writer() as session:
        uow = UnitOfWork(session=session, resources=app.state.resources)
        erased = await identity_service(uow).erase(uuid.UUID(user.id))
        await session.commit()

    assert erased == 1
    assert_problem(await client.get(ME, headers=user.headers), 401, "UNAUTHORIZED")
    assert_problem(await refresh(app, user.refresh_token), 401, "INVALID_REFRESH_TOKEN")


async def test_refresh_with_empty_token_returns_422(client: httpx.AsyncClient) -> None:
    response = await client.post(REFRESH, json={"refresh_token": ""})

    assert_problem(response, 422, "VALIDATION_ERROR")
