"""Google and Apple sign-in: ID tokens verified against the provider's JWKS, served here by a
local HTTP server with keys made for the test run."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from src.core.clock import FrozenClock
from tests.identity.helpers import assert_problem, authenticate
from tests.identity.jwks_server import (
    GOOGLE_ISSUER,
    JwksServer,
    hmac_token,
    unsigned_token,
)


def _google(token: str) -> dict[str, str]:
    return {"provider": "google", "token": token}


def _apple(token: str) -> dict[str, str]:
    return {"provider": "apple", "token": token}


async def test_valid_google_id_token_signs_in_authenticated_identity(
    app: FastAPI, clock: FrozenClock, jwks: JwksServer
) -> None:
    response = await authenticate(app, _google(jwks.google.token("google-sub-1", now=clock.now())))

    assert response.status_code == 200, response.text
    identity = response.json()["identity"]
    assert identity["type"] == "authenticated"
    assert identity["providers"] == ["google"]
    assert response.json()["access_token"]


async def test_valid_apple_id_token_signs_in_authenticated_identity(
    app: FastAPI, clock: FrozenClock, jwks: JwksServer
) -> None:
    response = await authenticate(app, _apple(jwks.apple.token("apple-sub-1", now=clock.now())))

    assert response.status_code == 200, response.text
    assert response.json()["identity"]["type"] == "authenticated"
    assert response.json()["identity"]["providers"] == ["apple"]


async def test_same_google_subject_signs_in_to_same_identity_every_time(
    app: FastAPI, clock: FrozenClock, jwks: JwksServer
) -> None:
    first = await authenticate(app, _google(jwks.google.token("returning-user", now=clock.now())))
    clock.advance(hours=2)
    second = await authenticate(app, _google(jwks.google.token("returning-user", now=clock.now())))
    third = await authenticate(app, _google(jwks.google.token("returning-user", now=clock.now())))

    assert first.status_code == second.status_code == third.status_code == 200
    ids = {r.json()["identity"]["id"] for r in (first, second, third)}
    assert len(ids) == 1


async def test_same_apple_subject_signs_in_to_same_identity(app: FastAPI, clock: FrozenClock, jwks: JwksServer) -> None:
    first = await authenticate(app, _apple(jwks.apple.token("apple-returning", now=clock.now())))
    second = await authenticate(app, _apple(jwks.apple.token("apple-returning", now=clock.now())))

    assert first.status_code == second.status_code == 200
    assert first.json()["identity"]["id"] == second.json()["identity"]["id"]


async def test_different_google_subjects_get_different_identities(
    app: FastAPI, clock: FrozenClock, jwks: JwksServer
) -> None:
    first = await authenticate(app, _google(jwks.google.token("person-a", now=clock.now())))
    second = await authenticate(app, _google(jwks.google.token("person-b", now=clock.now())))

    assert first.json()["identity"]["id"] != second.json()["identity"]["id"]


async def test_same_subject_at_google_and_apple_are_different_identities(
    app: FastAPI, clock: FrozenClock, jwks: JwksServer
) -> None:
    google = await authenticate(app, _google(jwks.google.token("shared-sub", now=clock.now())))
    apple = await authenticate(app, _apple(jwks.apple.token("shared-sub", now=clock.now())))

    assert google.status_code == apple.status_code == 200
    assert google.json()["identity"]["id"] != apple.json()["identity"]["id"]


async def test_token_signed_with_another_key_returns_401(app: FastAPI, clock: FrozenClock, jwks: JwksServer) -> None:
    # The attacker knows the published key id but not the private key.
    forged = jwks.google.token("victim", now=clock.now(), key=jwks.rogue_key, kid=jwks.google_key.kid)

    response = await authenticate(app, _google(forged))

    assert_problem(response, 401, "INVALID_TOKEN")


async def test_token_with_tampered_subject_returns_401(app: FastAPI, clock: FrozenClock, jwks: JwksServer) -> None:
    header, _, signature = jwks.google.token("honest-user", now=clock.now()).split(".")
    other_payload = jwks.google.token("victim", now=clock.now()).split(".")[1]

    response = await authenticate(app, _google(f"{header}.{other_payload}.{signature}"))

    assert_problem(response, 401, "INVALID_TOKEN")


async def test_token_for_another_audience_returns_401(app: FastAPI, clock: FrozenClock, jwks: JwksServer) -> None:
    token = jwks.google.token("someone", now=clock.now(), aud="some-other-app.apps.googleusercontent.com")

    response = await authenticate(app, _google(token))

    assert_problem(response, 401, "INVALID_TOKEN")


async def test_token_from_another_issuer_returns_401(app: FastAPI, clock: FrozenClock, jwks: JwksServer) -> None:
    token = jwks.google.token("someone", now=clock.now(), iss="https://evil.example.com")

    response = await authenticate(app, _google(token))

    assert_problem(response, 401, "INVALID_TOKEN")


async def test_google_token_presented_as_apple_returns_401(app: FastAPI, clock: FrozenClock, jwks: JwksServer) -> None:
    response = await authenticate(app, _apple(jwks.google.token("someone", now=clock.now())))

    assert_problem(response, 401, "INVALID_TOKEN")


async def test_apple_token_with_google_issuer_returns_401(app: FastAPI, clock: FrozenClock, jwks: JwksServer) -> None:
    token = jwks.apple.token("someone", now=clock.now(), iss=GOOGLE_ISSUER)

    response = await authenticate(app, _apple(token))

    assert_problem(response, 401, "INVALID_TOKEN")


async def test_expired_token_returns_401(app: FastAPI, clock: FrozenClock, jwks: JwksServer) -> None:
    # Issued two hours ago, valid for one hour: expired an hour ago by the server's clock.
    token = jwks.google.token("late-user", now=clock.now() - timedelta(hours=2), lifetime=timedelta(hours=1))

    response = await authenticate(app, _google(token))

    assert_problem(response, 401, "INVALID_TOKEN")


async def test_token_expires_by_server_clock(app: FastAPI, clock: FrozenClock, jwks: JwksServer) -> None:
    token = jwks.google.token("clock-user", now=clock.now(), lifetime=timedelta(minutes=10))
    assert (await authenticate(app, _google(token))).status_code == 200

    clock.advance(minutes=15)
    response = await authenticate(app, _google(token))

    assert_problem(response, 401, "INVALID_TOKEN")


async def test_token_without_expiry_returns_401(app: FastAPI, clock: FrozenClock, jwks: JwksServer) -> None:
    claims = jwks.google.claims("no-exp", now=clock.now())
    del claims["exp"]
    token = jwt.encode(claims, jwks.google_key.private, algorithm="RS256", headers={"kid": jwks.google_key.kid})

    response = await authenticate(app, _google(token))

    assert_problem(response, 401, "INVALID_TOKEN")


async def test_token_with_unknown_key_id_returns_401(app: FastAPI, clock: FrozenClock, jwks: JwksServer) -> None:
    token = jwks.google.token("someone", now=clock.now(), key=jwks.rogue_key, kid=jwks.rogue_key.kid)

    response = await authenticate(app, _google(token))

    assert_problem(response, 401, "INVALID_TOKEN")


async def test_unsigned_alg_none_token_returns_401(app: FastAPI, clock: FrozenClock, jwks: JwksServer) -> None:
    token = unsigned_token(
        {"alg": "none", "typ": "JWT", "kid": jwks.google_key.kid}, jwks.google.claims("someone", now=clock.now())
    )

    response = await authenticate(app, _google(token))

    assert_problem(response, 401, "INVALID_TOKEN")


async def test_hs256_token_keyed_with_public_key_returns_401(
    app: FastAPI, clock: FrozenClock, jwks: JwksServer
) -> None:
    token = hmac_token(
        jwks.google_key.public_pem(),
        {"alg": "HS256", "typ": "JWT", "kid": jwks.google_key.kid},
        jwks.google.claims("someone", now=clock.now()),
    )

    response = await authenticate(app, _google(token))

    assert_problem(response, 401, "INVALID_TOKEN")


async def test_garbage_token_returns_401(app: FastAPI) -> None:
    response = await authenticate(app, _google("this-is-not-a-jwt-at-all-but-long-enough"))

    assert_problem(response, 401, "INVALID_TOKEN")


async def test_failed_provider_sign_in_creates_no_identity(app: FastAPI, clock: FrozenClock, jwks: JwksServer) -> None:
    forged = jwks.google.token("victim", now=clock.now(), key=jwks.rogue_key, kid=jwks.google_key.kid)
    await authenticate(app, _google(forged))

    genuine = await authenticate(app, _google(jwks.google.token("victim", now=clock.now())))

    assert genuine.status_code == 200
    async with app.state.sessions.reader() as session:
        count = (await session.execute(text("SELECT COUNT(*) FROM identities"))).scalar_one()
    assert count == 1


@pytest.mark.parametrize("settings_overrides", ["oauth_not_configured"], indirect=True)
@pytest.mark.parametrize("provider", ["google", "apple"])
async def test_provider_not_configured_returns_422(
    app: FastAPI, clock: FrozenClock, jwks: JwksServer, provider: str
) -> None:
    minter = jwks.google if provider == "google" else jwks.apple
    token = minter.token("someone", now=clock.now())

    response = await authenticate(app, {"provider": provider, "token": token})

    assert_problem(response, 422, "PROVIDER_NOT_CONFIGURED")


@pytest.mark.parametrize("settings_overrides", ["google_jwks_unreachable"], indirect=True)
async def test_unreachable_jwks_server_returns_503(app: FastAPI, clock: FrozenClock, jwks: JwksServer) -> None:
    response = await authenticate(app, _google(jwks.google.token("someone", now=clock.now())))

    assert_problem(response, 503, "IDENTITY_PROVIDER_UNAVAILABLE")


@pytest.mark.parametrize("settings_overrides", ["google_jwks_failing"], indirect=True)
async def test_jwks_server_answering_500_returns_503(app: FastAPI, clock: FrozenClock, jwks: JwksServer) -> None:
    response = await authenticate(app, _google(jwks.google.token("someone", now=clock.now())))

    assert_problem(response, 503, "IDENTITY_PROVIDER_UNAVAILABLE")


@pytest.mark.parametrize("settings_overrides", ["google_jwks_unreachable"], indirect=True)
async def test_apple_sign_in_works_while_google_keys_are_unreachable(
    app: FastAPI, clock: FrozenClock, jwks: JwksServer
) -> None:
    response = await authenticate(app, _apple(jwks.apple.token("apple-user", now=clock.now())))

    assert response.status_code == 200, response.text


async def test_keys_are_fetched_once_for_several_sign_ins(app: FastAPI, clock: FrozenClock, jwks: JwksServer) -> None:
    before = len(jwks.requests)

    for subject in ("cached-1", "cached-2", "cached-3"):
        response = await authenticate(app, _google(jwks.google.token(subject, now=clock.now())))
        assert response.status_code == 200

    assert len(jwks.requests) - before == 1
