"""Request bodies over MAX_BODY_BYTES are refused with a 413 problem, whether the size is declared
(Content-Length) or only discovered while streaming (chunked)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from fastapi import Body, FastAPI
from starlette.types import Message, Scope

from tests.conftest import client_for

LIMIT = 2048
REGISTER = "/api/v1/identity/register"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"max_body_bytes": LIMIT}


def _register_body(size: int) -> bytes:
    """A JSON registration body of exactly `size` bytes."""
    skeleton = json.dumps({"email": "big@example.com", "password": ""}).encode()
    padding = size - len(skeleton)
    return json.dumps({"email": "big@example.com", "password": "p" * padding}).encode()


async def _chunks(total: int, chunk: int = 512) -> AsyncIterator[bytes]:
    body = _register_body(total)
    for start in range(0, len(body), chunk):
        yield body[start : start + chunk]


def assert_payload_too_large(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 413, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["code"] == "PAYLOAD_TOO_LARGE"
    assert body["status"] == 413
    assert body["type"] == "https://ugoki.app/problems/payload-too-large"
    assert body["title"]
    assert str(LIMIT) in body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


async def test_body_over_limit_with_content_length_returns_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        REGISTER, content=_register_body(LIMIT + 1), headers={"Content-Type": "application/json"}
    )

    assert_payload_too_large(response)


async def test_body_at_limit_is_accepted(client: httpx.AsyncClient) -> None:
    response = await client.post(REGISTER, content=_register_body(LIMIT), headers={"Content-Type": "application/json"})

    # Reaches validation (the password is longer than allowed), i.e. the size itself was fine.
    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"


async def test_streamed_body_over_limit_returns_413(client: httpx.AsyncClient) -> None:
    response = await client.post(REGISTER, content=_chunks(LIMIT * 4), headers={"Content-Type": "application/json"})

    assert "content-length" not in response.request.headers
    assert_payload_too_large(response)


async def test_streamed_body_under_limit_is_read_normally(client: httpx.AsyncClient) -> None:
    body = json.dumps({"email": "streamed@example.com", "password": "correct horse battery"}).encode()

    async def small() -> AsyncIterator[bytes]:
        yield body[:10]
        yield body[10:]

    response = await client.post(REGISTER, content=small(), headers={"Content-Type": "application/json"})

    assert response.status_code == 201, response.text


async def test_request_id_is_kept_on_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        REGISTER,
        content=_register_body(LIMIT * 2),
        headers={"Content-Type": "application/json", "X-Request-ID": "upload-77"},
    )

    body = assert_payload_too_large(response)
    assert body["request_id"] == "upload-77"


async def test_huge_body_to_unknown_route_is_refused_before_routing(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/nowhere", content=b"x" * (5 * 1024 * 1024))

    assert_payload_too_large(response)


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
async def test_huge_body_never_yields_500(app: FastAPI, streamed: bool) -> None:
    @app.post("/echo-size")
    async def echo_size(payload: Annotated[dict[str, Any], Body()]) -> dict[str, int]:
        return {"keys": len(payload)}

    huge = 8 * 1024 * 1024

    async def stream() -> AsyncIterator[bytes]:
        yield b'{"k": "'
        for _ in range(huge // 65536):
            yield b"a" * 65536
        yield b'"}'

    content: Any = stream() if streamed else b'{"k": "' + b"a" * huge + b'"}'
    async with client_for(app) as c:
        response = await c.post("/echo-size", content=content, headers={"Content-Type": "application/json"})

    assert_payload_too_large(response)


async def test_misdeclared_content_length_is_still_enforced_while_reading(app: FastAPI) -> None:
    """A client that declares a small Content-Length but sends more is cut off at the limit."""
    chunks = [b'{"email": "liar@example.com", "password": "', b"p" * (LIMIT * 3), b'"}']
    sent = iter(chunks)
    messages: list[Message] = []

    async def receive() -> Message:
        part = next(sent, None)
        return {"type": "http.request", "body": part or b"", "more_body": part is not None}

    async def send(message: Message) -> None:
        messages.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": REGISTER,
        "raw_path": REGISTER.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"), (b"content-length", b"100")],
        "client": ("10.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)

    start = next(m for m in messages if m["type"] == "http.response.start")
    assert start["status"] == 413
