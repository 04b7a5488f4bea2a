"""Checks every test module makes of an HTTP answer."""

from __future__ import annotations

from typing import Any

import httpx


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The answer has this status; its JSON body."""
    assert response.status_code == status, response.text
    return response.json()


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """An RFC 9457 problem body with this status (and stable code), carrying the request id (as in
    the X-Request-ID header) and never a stack trace."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert "Traceback" not in body["detail"]
    assert body["title"]
    assert body["type"]
    assert body["request_id"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body
