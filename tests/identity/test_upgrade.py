"""Upgrading an anonymous account to email or a Google/Apple account, keeping its data."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import User, anonymous_user, email_user
from tests.identity.helpers import (
    API,
    ME,
    UPGRADE,
    assert_problem,
    authenticate,
    bearer,
    feed_event_types,
    refresh,
    sign_in_anonymously,
)
from tests.identity.jwks_server import JwksServer

PASSWORD = "a strong passphrase"


def _email(email: str, password: str = PASSWORD) -> dict[str, str]:
    return {"provider": "email", "email": email, "password": password}


async def _upgrade(client: httpx.AsyncClient, user: User, body: dict[str, str]) -> httpx.Response:
    return await client.post(UPGRADE, json=body, headers=user.headers)


async def test_upgrade_with_email_keeps_identity_id_and_makes_it_authenticated(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)

    response = await _upgrade(client, user, _email("upgraded@example.com"))

    assert response.status_code == 200, response.text
    identity = response.json()["identity"]
    assert identity["id"] == user.id
    assert identity["type"] == "authenticated"
    assert identity["providers"] == ["email"]
    me = await client.get(ME, headers=bearer(response.json()["access_token"]))
    assert me.json()["id"] == user.id
    assert me.json()["type"] == "authenticated"


async def test_upgraded_account_signs_in_with_its_new_email(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await _upgrade(client, user, _email("Later@Example.com"))

    response = await authenticate(app, _email("later@example.com"))

    assert response.status_code == 200, response.text
    assert response.json()["identity"]["id"] == user.id


async def test_upgrade_with_google_keeps_identity_id(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, jwks: JwksServer
) -> None:
    user = await anonymous_user(app)
    token = jwks.google.token("google-upgrader", now=clock.now())

    response = await _upgrade(client, user, {"provider": "google", "token": token})

    assert response.status_code == 200, response.text
    assert response.json()["identity"]["id"] == user.id
    assert response.json()["identity"]["type"] == "authenticated"
    assert response.json()["identity"]["providers"] == ["google"]
    again = await authenticate(
        app, {"provider": "google", "token": jwks.google.token("google-upgrader", now=clock.now())}
    )
    assert again.json()["identity"]["id"] == user.id


async def test_upgrade_with_apple_keeps_identity_id(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, jwks: JwksServer
) -> None:
    user = await anonymous_user(app)

    response = await _upgrade(
        client, user, {"provider": "apple", "token": jwks.apple.token("apple-upgrader", now=clock.now())}
    )

    assert response.status_code == 200, response.text
    assert response.json()["identity"]["id"] == user.id
    assert response.json()["identity"]["providers"] == ["apple"]


async def test_the_old_device_id_of_an_upgraded_account_answers_409_not_a_new_account(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await _upgrade(client, user, _email("device-gone@example.com"))

    response = await sign_in_anonymously(app, user.device_id or "")

    # Never a silent new empty account: the app is told how to reach the upgraded one.
    body = assert_problem(response, 409, "DEVICE_ACCOUNT_UPGRADED")
    assert body["sign_in_with"] == ["email"]
    assert "sign in with email" in body["detail"]
    signed_in = await authenticate(app, _email("device-gone@example.com"))
    assert signed_in.json()["identity"]["id"] == user.id
    assert signed_in.json()["identity"]["providers"] == ["email"]


async def test_access_token_from_before_upgrade_is_rejected(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert (await client.get(ME, headers=user.headers)).status_code == 200

    await _upgrade(client, user, _email("old-token@example.com"))

    assert_problem(await client.get(ME, headers=user.headers), 401, "UNAUTHORIZED")


async def test_refresh_token_from_before_upgrade_is_rejected(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    await _upgrade(client, user, _email("old-refresh@example.com"))

    assert_problem(await refresh(app, user.refresh_token), 401, "INVALID_REFRESH_TOKEN")


async def test_data_recorded_before_upgrade_is_still_there(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    recorded = await client.post(
        f"{API}/events", json={"event_type": "app_opened", "related_id": "before-upgrade"}, headers=user.headers
    )
    assert recorded.status_code == 201, recorded.text

    upgraded = await _upgrade(client, user, _email("keeps-data@example.com"))
    feed = await client.get(f"{API}/events/feed", headers=bearer(upgraded.json()["access_token"]))

    assert feed.status_code == 200
    related = [item["related_id"] for item in feed.json() if item["event_type"] == "app_opened"]
    assert related == ["before-upgrade"]
    types = await feed_event_types(client, upgraded.json()["access_token"])
    assert "identity_created" in types


async def test_second_upgrade_returns_409_already_upgraded(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    first = await _upgrade(client, user, _email("first@example.com"))

    second = await client.post(UPGRADE, json=_email("second@example.com"), headers=bearer(first.json()["access_token"]))

    assert_problem(second, 409, "ALREADY_UPGRADED")
    assert_problem(await authenticate(app, _email("second@example.com")), 401, "INVALID_CREDENTIALS")


async def test_registered_email_account_cannot_upgrade(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await email_user(app)

    response = await _upgrade(client, user, _email("other@example.com"))

    assert_problem(response, 409, "ALREADY_UPGRADED")


async def test_upgrade_to_email_already_registered_returns_409_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner = await email_user(app, email="taken@example.com")
    user = await anonymous_user(app)

    response = await _upgrade(client, user, _email("TAKEN@example.com", "the attacker's password"))

    assert_problem(response, 409, "CREDENTIAL_IN_USE")
    me = await client.get(ME, headers=user.headers)
    assert me.status_code == 200
    assert me.json()["type"] == "anonymous"
    again = await sign_in_anonymously(app, user.device_id or "")
    assert again.json()["identity"]["id"] == user.id
    owner_login = await authenticate(app, _email("taken@example.com", owner.password or ""))
    assert owner_login.json()["identity"]["id"] == owner.id


async def test_upgrade_to_google_account_already_linked_returns_409(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, jwks: JwksServer
) -> None:
    existing = await authenticate(app, {"provider": "google", "token": jwks.google.token("linked", now=clock.now())})
    assert existing.status_code == 200
    user = await anonymous_user(app)

    response = await _upgrade(
        client, user, {"provider": "google", "token": jwks.google.token("linked", now=clock.now())}
    )

    assert_problem(response, 409, "CREDENTIAL_IN_USE")


async def test_upgrade_with_forged_google_token_returns_401_and_stays_anonymous(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, jwks: JwksServer
) -> None:
    user = await anonymous_user(app)
    forged = jwks.google.token("victim", now=clock.now(), key=jwks.rogue_key, kid=jwks.google_key.kid)

    response = await _upgrade(client, user, {"provider": "google", "token": forged})

    assert_problem(response, 401, "INVALID_TOKEN")
    assert (await client.get(ME, headers=user.headers)).json()["type"] == "anonymous"


async def test_upgrade_with_password_shorter_than_8_characters_returns_422(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)

    response = await _upgrade(client, user, _email("weak@example.com", "short"))

    assert_problem(response, 422, "WEAK_PASSWORD")
    assert (await client.get(ME, headers=user.headers)).json()["type"] == "anonymous"


async def test_upgrade_to_anonymous_provider_returns_422(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    response = await _upgrade(client, user, {"provider": "anonymous", "token": "another-device-id-0001"})

    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_upgrade_without_token_returns_401(client: httpx.AsyncClient) -> None:
    response = await client.post(UPGRADE, json=_email("anon@example.com"))

    assert_problem(response, 401, "UNAUTHORIZED")
