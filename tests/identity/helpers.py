"""Small helpers shared by the identity tests: calls the app the way the mobile client does, and
the checks every error answer must pass."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from tests.conftest import client_for
from tests.factories import fresh_ip

# The shared answer checks, re-exported for the tests of this package.
from tests.http import assert_problem as assert_problem

API = "/api/v1"
AUTHENTICATE = f"{API}/identity/authenticate"
REGISTER = f"{API}/identity/register"
REFRESH = f"{API}/identity/refresh"
LOGOUT = f"{API}/identity/logout"
UPGRADE = f"{API}/identity/upgrade"
ME = f"{API}/identity/me"
FEED = f"{API}/events/feed"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_device_id() -> str:
    return f"device-{uuid.uuid4()}"


async def post_from_new_ip(app: FastAPI, url: str, body: dict[str, Any]) -> httpx.Response:
    """A request from an address of its own, so that sign-in rate limits stay out of the way."""
    async with client_for(app, fresh_ip()) as c:
        return await c.post(url, json=body)


async def authenticate(app: FastAPI, body: dict[str, Any]) -> httpx.Response:
    return await post_from_new_ip(app, AUTHENTICATE, body)


async def sign_in_anonymously(app: FastAPI, device_id: str) -> httpx.Response:
    return await authenticate(app, {"provider": "anonymous", "token": device_id})


async def refresh(app: FastAPI, refresh_token: str) -> httpx.Response:
    return await post_from_new_ip(app, REFRESH, {"refresh_token": refresh_token})


async def feed_event_types(client: httpx.AsyncClient, access_token: str) -> list[str]:
    """The caller's event types, newest first (events of the same instant in no fixed order)."""
    response = await client.get(FEED, params={"limit": 100}, headers=bearer(access_token))
    assert response.status_code == 200, response.text
    return [item["event_type"] for item in response.json()]
