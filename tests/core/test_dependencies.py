"""The shared request dependencies: who the caller is comes from a verified token only."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import anonymous_user

ME = "/api/v1/identity/me"


async def test_identity_id_query_parameter_is_ignored(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    other = await anonymous_user(app)

    response = await client.get(ME, params=[("identity_id", other.id), ("identity_id", other.id)], headers=user.headers)

    assert response.status_code == 200
    assert response.json()["id"] == user.id


async def test_non_bearer_authorization_returns_401(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    response = await client.get(ME, headers={"Authorization": f"Basic {user.access_token}"})

    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"


async def test_well_signed_token_for_unknown_session_returns_401(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    token, _ = app.state.resources.tokens.issue_access(uuid.UUID(user.id), uuid.uuid4(), now=clock.now())

    response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_token_whose_session_belongs_to_someone_else_returns_401(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    victim = await anonymous_user(app)
    attacker = await anonymous_user(app)
    assert (await client.get(ME, headers=attacker.headers)).status_code == 200  # session now cached
    # A token pairing the attacker's live session with the victim's identity (as if the secret leaked
    # only partially): the session must belong to the identity named in the token.
    attacker_claims = app.state.resources.tokens.decode_access(attacker.access_token, now=clock.now())
    token, _ = app.state.resources.tokens.issue_access(
        uuid.UUID(victim.id), attacker_claims.session_id, now=clock.now()
    )

    response = await client.get(ME, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
