"""Email + password accounts: registration and sign-in."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import text

from tests.factories import DEFAULT_PASSWORD, email_user
from tests.identity.helpers import AUTHENTICATE, REGISTER, assert_problem, authenticate


def _login(email: str, password: str) -> dict[str, str]:
    return {"provider": "email", "email": email, "password": password}


async def test_register_returns_201_with_authenticated_identity(client: httpx.AsyncClient) -> None:
    response = await client.post(REGISTER, json={"email": "ada@example.com", "password": "long enough pw"})

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["identity"]["type"] == "authenticated"
    assert body["identity"]["providers"] == ["email"]
    assert body["access_token"]
    assert body["refresh_token"]


async def test_registered_account_signs_in_with_email_and_password(app: FastAPI) -> None:
    user = await email_user(app)

    response = await authenticate(app, _login(user.email or "", DEFAULT_PASSWORD))

    assert response.status_code == 200, response.text
    assert response.json()["identity"]["id"] == user.id
    assert response.json()["identity"]["type"] == "authenticated"


async def test_sign_in_ignores_case_and_spaces_of_email(app: FastAPI) -> None:
    user = await email_user(app, email="grace.hopper@example.com")

    response = await authenticate(app, _login("  Grace.Hopper@EXAMPLE.com ", DEFAULT_PASSWORD))

    assert response.status_code == 200, response.text
    assert response.json()["identity"]["id"] == user.id


async def test_register_same_email_returns_409(app: FastAPI, client: httpx.AsyncClient) -> None:
    await email_user(app, email="dup@example.com")

    response = await client.post(REGISTER, json={"email": "dup@example.com", "password": "another password"})

    assert_problem(response, 409, "EMAIL_ALREADY_REGISTERED")


async def test_register_same_email_in_other_case_returns_409(app: FastAPI, client: httpx.AsyncClient) -> None:
    await email_user(app, email="case@example.com")

    response = await client.post(REGISTER, json={"email": "CASE@Example.COM", "password": "another password"})

    assert_problem(response, 409, "EMAIL_ALREADY_REGISTERED")


async def test_failed_registration_leaves_first_account_password_working(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await email_user(app, email="keep@example.com")
    await client.post(REGISTER, json={"email": "keep@example.com", "password": "attacker password"})

    original = await authenticate(app, _login("keep@example.com", DEFAULT_PASSWORD))
    attacker = await authenticate(app, _login("keep@example.com", "attacker password"))

    assert original.status_code == 200
    assert original.json()["identity"]["id"] == user.id
    assert_problem(attacker, 401, "INVALID_CREDENTIALS")


async def test_wrong_password_and_unknown_email_get_the_same_401(app: FastAPI) -> None:
    user = await email_user(app)

    wrong_password = await authenticate(app, _login(user.email or "", "not the password"))
    unknown_email = await authenticate(app, _login("nobody-here@example.com", "not the password"))

    wrong = assert_problem(wrong_password, 401, "INVALID_CREDENTIALS")
    unknown = assert_problem(unknown_email, 401, "INVALID_CREDENTIALS")
    assert wrong["detail"] == unknown["detail"] == "Invalid email or password"
    assert wrong["title"] == unknown["title"]
    assert wrong_password.headers.get("www-authenticate") == unknown_email.headers.get("www-authenticate")


async def test_password_is_stored_as_argon2id(app: FastAPI) -> None:
    user = await email_user(app)

    async with app.state.sessions.reader() as session:
        rows = (await session.execute(text("SELECT subject_hash, password_hash FROM identity_credentials"))).all()

    assert len(rows) == 1
    subject_hash, password_hash = rows[0]
    assert password_hash.startswith("$argon2id$")
    assert DEFAULT_PASSWORD not in password_hash
    assert user.email not in subject_hash


async def test_register_with_password_shorter_than_8_characters_returns_422(client: httpx.AsyncClient) -> None:
    response = await client.post(REGISTER, json={"email": "short@example.com", "password": "1234567"})

    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_register_with_malformed_email_returns_422(client: httpx.AsyncClient) -> None:
    response = await client.post(REGISTER, json={"email": "not-an-email", "password": "long enough pw"})

    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_email_sign_in_without_password_returns_422(client: httpx.AsyncClient) -> None:
    response = await client.post(AUTHENTICATE, json={"provider": "email", "email": "a@example.com"})

    assert_problem(response, 422, "VALIDATION_ERROR")
