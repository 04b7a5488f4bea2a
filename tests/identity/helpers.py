"""Small helpers shared by the identity tests: calls the app the way the mobile client does, and
the checks every error answer must pass."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from tests.conftest import client_for
from tests.factories import fresh_ip

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


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The answer is an RFC 9457 problem body with the given status and stable code, and carries
    the request id (also in the X-Request-ID header)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code, body
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body["title"]
    assert body["type"]
    assert body["request_id"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


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
