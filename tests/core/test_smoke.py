from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.factories import anonymous_user


async def test_health_answers_with_service_name(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "healthy", "service": "ugoki-api"}


async def test_anonymous_user_reads_own_identity(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.get("/api/v1/identity/me", headers=user.headers)
    assert response.status_code == 200
    assert response.json()["id"] == user.id
