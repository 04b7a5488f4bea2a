"""Anonymous sign-in with the app's device id."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import text

from src.core.clock import FrozenClock
from tests.identity.helpers import assert_problem, authenticate, new_device_id, sign_in_anonymously


async def test_first_sign_in_with_device_id_creates_anonymous_identity_with_tokens(
    app: FastAPI, clock: FrozenClock
) -> None:
    response = await sign_in_anonymously(app, new_device_id())

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["identity"]["type"] == "anonymous"
    assert body["identity"]["providers"] == ["anonymous"]
    assert body["identity"]["capabilities"] == []
    assert body["access_token"]
    assert body["refresh_token"]
    assert body["token_type"] == "bearer"
    assert body["expires_at"] == (clock.now() + timedelta(minutes=60)).isoformat().replace("+00:00", "Z")
    assert body["refresh_expires_at"] == (clock.now() + timedelta(days=30)).isoformat().replace("+00:00", "Z")


async def test_same_device_id_signs_in_to_same_identity(app: FastAPI) -> None:
    device_id = new_device_id()

    first = await sign_in_anonymously(app, device_id)
    second = await sign_in_anonymously(app, device_id)

    assert first.status_code == second.status_code == 200
    assert first.json()["identity"]["id"] == second.json()["identity"]["id"]
    assert first.json()["access_token"] != second.json()["access_token"]


async def test_different_device_ids_get_different_identities(app: FastAPI) -> None:
    first = await sign_in_anonymously(app, new_device_id())
    second = await sign_in_anonymously(app, new_device_id())

    assert first.json()["identity"]["id"] != second.json()["identity"]["id"]


async def test_device_id_is_stored_only_as_keyed_hash(app: FastAPI) -> None:
    device_id = new_device_id()
    response = await sign_in_anonymously(app, device_id)
    assert response.status_code == 200

    async with app.state.sessions.reader() as session:
        credentials = (await session.execute(text("SELECT * FROM identity_credentials"))).mappings().all()
        identities = (await session.execute(text("SELECT * FROM identities"))).mappings().all()

    assert len(credentials) == 1
    stored = " ".join(str(value) for row in [*credentials, *identities] for value in row.values())
    assert device_id not in stored
    assert device_id.lower() not in stored.lower()
    # Keyed: not a plain hash anyone could recompute from a guessed device id.
    plain_hashes = {
        hashlib.sha256(device_id.encode()).hexdigest(),
        hashlib.sha256(f"anonymous:{device_id}".encode()).hexdigest(),
    }
    assert credentials[0]["subject_hash"] not in plain_hashes
    assert credentials[0]["password_hash"] is None


async def test_device_id_shorter_than_16_characters_returns_422(app: FastAPI) -> None:
    response = await sign_in_anonymously(app, "x" * 15)

    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert body["errors"]
    assert any("token" in [str(part) for part in error["loc"]] for error in body["errors"])


async def test_device_id_of_exactly_16_characters_is_accepted(app: FastAPI) -> None:
    response = await sign_in_anonymously(app, "0123456789abcdef")

    assert response.status_code == 200, response.text


async def test_unknown_provider_returns_422(app: FastAPI) -> None:
    response = await authenticate(app, {"provider": "facebook", "token": new_device_id()})

    assert_problem(response, 422, "VALIDATION_ERROR")
