"""X-Request-ID: the caller's id is echoed when well-formed, else one is generated; every response
carries it, and problem bodies repeat it."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message, Scope

from tests.conftest import client_for

GENERATED = re.compile(r"^[0-9a-f]{32}$")


async def test_well_formed_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "ios-7f3a.2026-03-10:0001"})

    assert response.status_code == 200
    assert response.headers["x-request-id"] == "ios-7f3a.2026-03-10:0001"


async def test_request_id_is_generated_when_absent(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")

    assert GENERATED.match(response.headers["x-request-id"])


async def test_each_request_without_id_gets_a_different_one(client: httpx.AsyncClient) -> None:
    first = await client.get("/health")
    second = await client.get("/health")

    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize(
    "incoming",
    [
        pytest.param("a" * 300, id="too-long"),
        pytest.param("has spaces in it", id="spaces"),
        pytest.param("line\\nbreak", id="backslash-n"),
        pytest.param("<script>alert(1)</script>", id="markup"),
        pytest.param("", id="empty"),
    ],
)
async def test_malformed_request_id_is_replaced_by_a_generated_one(client: httpx.AsyncClient, incoming: str) -> None:
    response = await client.get("/health", headers={"X-Request-ID": incoming})

    assert response.status_code == 200
    assert GENERATED.match(response.headers["x-request-id"])


async def test_request_id_with_raw_newline_is_replaced(app: FastAPI) -> None:
    # Sent at the ASGI level: a well-behaved HTTP client would refuse to send it at all.
    scope_headers = [(b"host", b"testserver"), (b"x-request-id", b"forged\r\nSet-Cookie: x=1")]
    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        messages.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/health",
        "raw_path": b"/health",
        "root_path": "",
        "query_string": b"",
        "headers": scope_headers,
        "client": ("10.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)

    start = next(m for m in messages if m["type"] == "http.response.start")
    assert start["status"] == 200
    ids = [value for key, value in start["headers"] if key == b"x-request-id"]
    assert len(ids) == 1
    assert GENERATED.match(ids[0].decode())


async def test_request_id_is_on_404_and_matches_the_body(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nowhere", headers={"X-Request-ID": "req-404"})

    assert response.status_code == 404
    assert response.headers["x-request-id"] == "req-404"
    assert response.json()["request_id"] == "req-404"


async def test_generated_request_id_on_422_matches_the_body(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/identity/register", json={"email": "nope"})

    assert response.status_code == 422
    assert GENERATED.match(response.headers["x-request-id"])
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_request_id_is_on_500_and_matches_the_body(app: FastAPI) -> None:
    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    async with client_for(app) as c:
        response = await c.get("/boom")

    assert response.status_code == 500
    assert GENERATED.match(response.headers["x-request-id"])
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_handler_cannot_override_the_request_id_header(app: FastAPI) -> None:
    from fastapi.responses import JSONResponse

    @app.get("/sets-own-id")
    async def sets_own_id() -> JSONResponse:
        return JSONResponse({"ok": True}, headers={"X-Request-ID": "spoofed"})

    async with client_for(app) as c:
        response = await c.get("/sets-own-id", headers={"X-Request-ID": "real-id"})

    assert response.headers.get_list("x-request-id") == ["real-id"]


async def test_request_id_is_exposed_to_browsers(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"Origin": "https://app.example"})

    assert "x-request-id" in response.headers["access-control-expose-headers"].lower()
