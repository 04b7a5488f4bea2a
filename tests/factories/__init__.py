"""Factories: create users the way the app does (through the API), from distinct client
addresses so that sign-up rate limits (per IP) do not get in the way of tests that need many."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from tests.conftest import client_for

_ip_counter = itertools.count(1)


def fresh_ip() -> str:
    n = next(_ip_counter)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


@dataclass
class User:
    id: str
    access_token: str
    refresh_token: str
    device_id: str | None = None
    email: str | None = None
    password: str | None = None
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


async def anonymous_user(app: FastAPI, device_id: str | None = None) -> User:
    device_id = device_id or f"device-{uuid.uuid4()}"
    async with client_for(app, fresh_ip()) as c:
        response = await c.post("/api/v1/identity/authenticate", json={"provider": "anonymous", "token": device_id})
    assert response.status_code == 200, response.text
    body = response.json()
    return User(body["identity"]["id"], body["access_token"], body["refresh_token"], device_id=device_id, body=body)


DEFAULT_PASSWORD = "correct horse battery"


async def email_user(app: FastAPI, email: str | None = None, password: str = DEFAULT_PASSWORD) -> User:
    email = email or f"user-{uuid.uuid4().hex[:12]}@example.com"
    async with client_for(app, fresh_ip()) as c:
        response = await c.post("/api/v1/identity/register", json={"email": email, "password": password})
    assert response.status_code == 201, response.text
    body = response.json()
    return User(
        body["identity"]["id"], body["access_token"], body["refresh_token"], email=email, password=password, body=body
    )


async def admin_user(app: FastAPI) -> User:
    """An email account with the admin capability, granted the way the CLI does it."""
    from src.core.uow import UnitOfWork
    from src.modules.identity import ADMIN, identity_service

    user = await email_user(app)
    async with app.state.sessions.writer() as session:
        uow = UnitOfWork(session=session, resources=app.state.resources)
        await identity_service(uow).grant_capability(uuid.UUID(user.id), ADMIN)
        await session.commit()
    return user


async def fresh_token(app: FastAPI, user: User) -> User:
    """Sign the same person in again (after moving the test clock past the token's life)."""
    async with client_for(app, fresh_ip()) as c:
        if user.device_id:
            response = await c.post(
                "/api/v1/identity/authenticate", json={"provider": "anonymous", "token": user.device_id}
            )
        else:
            response = await c.post(
                "/api/v1/identity/authenticate",
                json={"provider": "email", "email": user.email, "password": user.password},
            )
    assert response.status_code == 200, response.text
    body = response.json()
    user.access_token, user.refresh_token = body["access_token"], body["refresh_token"]
    return user
