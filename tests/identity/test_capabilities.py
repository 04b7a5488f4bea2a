"""Capabilities: shown on /me, granted and revoked by admins, the CLI's `ensure_admin`."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from src.core.uow import UnitOfWork
from src.modules.identity import ADMIN, Identity
from src.modules.identity.manifest import ensure_admin
from tests.factories import admin_user, anonymous_user, email_user
from tests.identity.helpers import API, ME, assert_problem, authenticate, bearer


def _capabilities_url(identity_id: str | uuid.UUID) -> str:
    return f"{API}/identity/{identity_id}/capabilities"


async def test_me_lists_admin_capability_of_admin(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await admin_user(app)

    response = await client.get(ME, headers=admin.headers)

    assert response.status_code == 200
    assert response.json()["capabilities"] == ["admin"]


async def test_admin_grants_capability_that_shows_on_me(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)

    response = await client.post(_capabilities_url(user.id), json={"capability": "beta"}, headers=admin.headers)

    assert response.status_code == 200, response.text
    assert response.json()["capability"] == "beta"
    assert response.json()["expires_at"] is None
    assert (await client.get(ME, headers=user.headers)).json()["capabilities"] == ["beta"]


async def test_granting_the_same_capability_twice_keeps_one(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)

    for _ in range(2):
        response = await client.post(_capabilities_url(user.id), json={"capability": "beta"}, headers=admin.headers)
        assert response.status_code == 200

    assert (await client.get(ME, headers=user.headers)).json()["capabilities"] == ["beta"]


async def test_admin_revokes_capability(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)
    await client.post(_capabilities_url(user.id), json={"capability": "beta"}, headers=admin.headers)

    response = await client.delete(f"{_capabilities_url(user.id)}/beta", headers=admin.headers)

    assert response.status_code == 204
    assert (await client.get(ME, headers=user.headers)).json()["capabilities"] == []


async def test_revoking_capability_the_identity_lacks_returns_404(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)

    response = await client.delete(f"{_capabilities_url(user.id)}/beta", headers=admin.headers)

    assert_problem(response, 404, "NOT_FOUND")


async def test_capability_with_expiry_disappears_when_it_expires(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)
    expires_at = (clock.now() + timedelta(hours=1)).isoformat()
    await client.post(
        _capabilities_url(user.id), json={"capability": "trial", "expires_at": expires_at}, headers=admin.headers
    )
    assert (await client.get(ME, headers=user.headers)).json()["capabilities"] == ["trial"]

    clock.advance(minutes=61)
    fresh = (await authenticate(app, {"provider": "anonymous", "token": user.device_id})).json()

    assert (await client.get(ME, headers=bearer(fresh["access_token"]))).json()["capabilities"] == []


async def test_capability_expiry_past_year_9999_in_utc_returns_422_and_grants_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)

    response = await client.post(
        _capabilities_url(user.id),
        json={"capability": "premium", "expires_at": "9999-12-31T23:59:59-01:00"},
        headers=admin.headers,
    )

    assert_problem(response, 422, "VALIDATION_ERROR")
    assert ["body", "expires_at"] in [e["loc"] for e in response.json()["errors"]]
    assert (await client.get(ME, headers=user.headers)).json()["capabilities"] == []


async def test_capability_expiry_with_an_offset_is_answered_in_utc(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)

    response = await client.post(
        _capabilities_url(user.id),
        json={"capability": "premium", "expires_at": "2026-03-10T15:00:00+02:00"},
        headers=admin.headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["expires_at"] == "2026-03-10T13:00:00Z"
    assert (await client.get(ME, headers=user.headers)).json()["capabilities"] == ["premium"]


async def test_non_admin_cannot_grant_capability(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await email_user(app)

    response = await client.post(_capabilities_url(user.id), json={"capability": "admin"}, headers=user.headers)

    assert_problem(response, 403, "FORBIDDEN")
    assert (await client.get(ME, headers=user.headers)).json()["capabilities"] == []


async def test_non_admin_cannot_revoke_capability(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)

    response = await client.delete(f"{_capabilities_url(admin.id)}/admin", headers=user.headers)

    assert_problem(response, 403, "FORBIDDEN")
    assert (await client.get(ME, headers=admin.headers)).json()["capabilities"] == ["admin"]


async def test_granting_capability_without_token_returns_401(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    response = await client.post(_capabilities_url(user.id), json={"capability": "beta"})

    assert_problem(response, 401, "UNAUTHORIZED")


async def test_granting_capability_to_unknown_identity_returns_404(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await admin_user(app)

    response = await client.post(_capabilities_url(uuid.uuid4()), json={"capability": "beta"}, headers=admin.headers)

    assert_problem(response, 404, "IDENTITY_NOT_FOUND")


async def test_granting_capability_to_malformed_identity_id_returns_422(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    admin = await admin_user(app)

    response = await client.post(_capabilities_url("not-a-uuid"), json={"capability": "beta"}, headers=admin.headers)

    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_capability_name_with_invalid_characters_returns_422(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)

    response = await client.post(_capabilities_url(user.id), json={"capability": "Beta Tester!"}, headers=admin.headers)

    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_granted_admin_capability_takes_effect_at_once(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await admin_user(app)
    user = await email_user(app)
    denied = await client.post(_capabilities_url(user.id), json={"capability": "beta"}, headers=user.headers)
    assert denied.status_code == 403  # the user's session is now cached without admin

    await client.post(_capabilities_url(user.id), json={"capability": "admin"}, headers=admin.headers)
    response = await client.post(_capabilities_url(user.id), json={"capability": "beta"}, headers=user.headers)

    assert response.status_code == 200, response.text


async def test_revoked_admin_capability_takes_effect_at_once(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await admin_user(app)
    other_admin = await admin_user(app)
    target = await anonymous_user(app)
    allowed = await client.post(_capabilities_url(target.id), json={"capability": "beta"}, headers=other_admin.headers)
    assert allowed.status_code == 200  # the other admin's session is now cached with admin

    await client.delete(f"{_capabilities_url(other_admin.id)}/admin", headers=admin.headers)
    response = await client.post(_capabilities_url(target.id), json={"capability": "beta"}, headers=other_admin.headers)

    assert_problem(response, 403, "FORBIDDEN")


async def _ensure_admin(app: FastAPI, email: str, password: str | None) -> tuple[Identity, bool]:
    async with app.state.sessions.writer() as session:
        uow = UnitOfWork(session=session, resources=app.state.resources)
        result = await ensure_admin(uow, email, password)
        await session.commit()
    return result


async def test_ensure_admin_creates_admin_account_that_can_sign_in(app: FastAPI, client: httpx.AsyncClient) -> None:
    identity, created = await _ensure_admin(app, "Root@Example.com", "admin passphrase")

    assert created is True
    assert ADMIN in identity.capabilities
    login = await authenticate(app, {"provider": "email", "email": "root@example.com", "password": "admin passphrase"})
    assert login.status_code == 200
    assert login.json()["identity"]["id"] == str(identity.id)
    assert (await client.get(ME, headers=bearer(login.json()["access_token"]))).json()["capabilities"] == ["admin"]


async def test_ensure_admin_promotes_existing_account_without_changing_its_password(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await email_user(app)

    identity, created = await _ensure_admin(app, user.email or "", None)

    assert created is False
    assert str(identity.id) == user.id
    assert (await client.get(ME, headers=user.headers)).json()["capabilities"] == ["admin"]
    login = await authenticate(app, {"provider": "email", "email": user.email, "password": user.password})
    assert login.status_code == 200


async def test_ensure_admin_refuses_to_create_account_without_password(app: FastAPI) -> None:
    with pytest.raises(ValueError, match="password"):
        await _ensure_admin(app, "nopass@example.com", None)

    login = await authenticate(app, {"provider": "email", "email": "nopass@example.com", "password": "whatever1"})
    assert_problem(login, 401, "INVALID_CREDENTIALS")
