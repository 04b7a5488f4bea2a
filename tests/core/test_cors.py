"""CORS: browsers may call the API only from the configured origins."""

from __future__ import annotations

import httpx
import pytest

ALLOWED = "https://app.example"


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    return getattr(request, "param", {"cors_origins": [ALLOWED]})


def _preflight_headers(origin: str, method: str = "GET") -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_preflight_from_configured_origin_is_allowed(client: httpx.AsyncClient) -> None:
    response = await client.options("/api/v1/identity/me", headers=_preflight_headers(ALLOWED))

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "GET" in response.headers["access-control-allow-methods"]
    assert "authorization" in response.headers["access-control-allow-headers"].lower()


async def test_preflight_from_other_origin_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.options("/api/v1/identity/me", headers=_preflight_headers("https://evil.example"))

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_preflight_for_unlisted_method_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.options("/api/v1/identity/me", headers=_preflight_headers(ALLOWED, method="TRACE"))

    assert response.status_code == 400


async def test_simple_request_from_other_origin_gets_no_cors_grant(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"Origin": "https://evil.example"})

    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers


async def test_simple_request_from_configured_origin_exposes_retry_after(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"Origin": ALLOWED})

    assert response.headers["access-control-allow-origin"] == ALLOWED
    exposed = response.headers["access-control-expose-headers"].lower()
    assert "retry-after" in exposed
    assert "x-request-id" in exposed


@pytest.mark.parametrize("settings_overrides", [{"cors_origins": []}], indirect=True)
async def test_test_environment_without_origins_allows_any_origin_without_credentials(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options("/api/v1/identity/me", headers=_preflight_headers("http://localhost:8081"))

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in response.headers
