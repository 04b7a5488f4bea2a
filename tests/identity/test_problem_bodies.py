"""Identity errors are problem bodies a client can quote: stable code, request id."""

from __future__ import annotations

import httpx

from tests.identity.helpers import AUTHENTICATE, ME, REFRESH, assert_problem


async def test_error_carries_the_request_id_the_client_sent(client: httpx.AsyncClient) -> None:
    response = await client.get(ME, headers={"Authorization": "Bearer nope", "X-Request-ID": "mobile-req-42"})

    body = assert_problem(response, 401, "UNAUTHORIZED")
    assert body["request_id"] == "mobile-req-42"


async def test_malformed_json_body_returns_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(AUTHENTICATE, content=b"{not json", headers={"Content-Type": "application/json"})

    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert body["errors"]


async def test_wrong_method_returns_405_problem(client: httpx.AsyncClient) -> None:
    response = await client.get(REFRESH)

    assert_problem(response, 405, "METHOD_NOT_ALLOWED")


async def test_non_bearer_authorization_scheme_returns_401_problem(client: httpx.AsyncClient) -> None:
    response = await client.get(ME, headers={"Authorization": "Basic dXNlcjpwYXNz"})

    assert_problem(response, 401, "UNAUTHORIZED")
