"""Sign-in activity shows in the caller's event feed."""

from __future__ import annotations

from collections import Counter

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import anonymous_user, email_user
from tests.identity.helpers import (
    FEED,
    LOGOUT,
    UPGRADE,
    authenticate,
    bearer,
    feed_event_types,
    new_device_id,
    refresh,
    sign_in_anonymously,
)
from tests.identity.jwks_server import JwksServer


async def test_first_anonymous_sign_in_records_identity_created_and_login(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)

    types = await feed_event_types(client, user.access_token)

    assert Counter(types) == {"identity_created": 1, "login": 1}


async def test_returning_sign_in_records_login_but_no_new_identity(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    device_id = new_device_id()
    await sign_in_anonymously(app, device_id)
    clock.advance(minutes=5)

    second = (await sign_in_anonymously(app, device_id)).json()
    feed = (await client.get(FEED, headers=bearer(second["access_token"]))).json()

    assert Counter(item["event_type"] for item in feed) == {"identity_created": 1, "login": 2}
    newest = feed[0]
    assert newest["event_type"] == "login"
    assert newest["category"] == "auth"
    assert newest["metadata"]["provider"] == "anonymous"
    assert newest["timestamp"].startswith(clock.now().date().isoformat())


async def test_registration_records_identity_created_and_login(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await email_user(app)

    feed = (await client.get(FEED, headers=user.headers)).json()

    assert Counter(item["event_type"] for item in feed) == {"identity_created": 1, "login": 1}
    assert {item["metadata"].get("provider") for item in feed} == {"email"}


async def test_google_sign_in_records_login_with_provider(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, jwks: JwksServer
) -> None:
    response = await authenticate(app, {"provider": "google", "token": jwks.google.token("g-ev", now=clock.now())})
    feed = (await client.get(FEED, headers=bearer(response.json()["access_token"]))).json()

    logins = [item for item in feed if item["event_type"] == "login"]
    assert len(logins) == 1
    assert logins[0]["metadata"]["provider"] == "google"


async def test_logout_is_recorded(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user = await anonymous_user(app)
    clock.advance(minutes=1)
    await client.post(LOGOUT, headers=user.headers)
    clock.advance(minutes=1)

    again = (await sign_in_anonymously(app, user.device_id or "")).json()
    types = await feed_event_types(client, again["access_token"])

    assert types[:2] == ["login", "logout"]
    assert Counter(types[2:]) == {"identity_created": 1, "login": 1}


async def test_upgrade_records_account_upgraded(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user = await anonymous_user(app)
    clock.advance(minutes=1)

    upgraded = await client.post(
        UPGRADE,
        json={"provider": "email", "email": "evented@example.com", "password": "a good password"},
        headers=user.headers,
    )
    feed = (await client.get(FEED, headers=bearer(upgraded.json()["access_token"]))).json()

    assert feed[0]["event_type"] == "account_upgraded"
    assert feed[0]["metadata"]["provider"] == "email"
    assert Counter(item["event_type"] for item in feed) == {"identity_created": 1, "login": 1, "account_upgraded": 1}


async def test_refresh_token_reuse_records_session_revoked(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    device_id = new_device_id()
    user = (await sign_in_anonymously(app, device_id)).json()
    await refresh(app, user["refresh_token"])
    clock.advance(seconds=11)  # past the grace for a client racing itself: a real reuse
    await refresh(app, user["refresh_token"])

    again = (await sign_in_anonymously(app, device_id)).json()
    types = await feed_event_types(client, again["access_token"])

    assert "session_revoked" in types


async def test_failed_sign_in_records_nothing_for_the_account(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await email_user(app)
    await sign_in_anonymously(app, "short")  # rejected before anything happens
    await authenticate(app, {"provider": "email", "email": user.email, "password": "wrong password"})

    assert Counter(await feed_event_types(client, user.access_token)) == {"identity_created": 1, "login": 1}
