"""Identity tests run against an app that trusts a local JWKS server for Google and Apple.

A test can ask for another configuration with
`@pytest.mark.parametrize("settings_overrides", ["oauth_not_configured"], indirect=True)`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.identity.jwks_server import FAILING_PATH, JwksServer, start_jwks_server, unreachable_url


@pytest.fixture(scope="session")
def jwks() -> Iterator[JwksServer]:
    server = start_jwks_server()
    yield server
    server.stop()


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest, jwks: JwksServer) -> dict[str, object]:
    variant = getattr(request, "param", "oauth")
    if variant == "oauth_not_configured":
        return {}
    overrides = jwks.settings()
    if variant == "google_jwks_unreachable":
        overrides["google_jwks_url"] = unreachable_url()
    elif variant == "google_jwks_failing":
        overrides["google_jwks_url"] = jwks.url(FAILING_PATH)
    elif variant != "oauth":
        raise ValueError(f"unknown settings variant {variant!r}")
    return overrides
