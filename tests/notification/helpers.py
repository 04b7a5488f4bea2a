"""Shared by the notification tests: routes, the fake Expo server wiring, delivering the outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
from fastapi import FastAPI

from src.core.outbox import OutboxDispatcher
from tests.factories import User
from tests.http import assert_problem as assert_problem
from tests.http import ok as ok

API = "/api/v1"
NOTIFICATIONS = f"{API}/notifications"
DEVICES = f"{NOTIFICATIONS}/devices"
PREFERENCES = f"{NOTIFICATIONS}/preferences"
WINDOWS = f"{API}/time-keeper/windows"
PROFILE_PREFERENCES = f"{API}/profile/preferences"


def dispatcher(app: FastAPI) -> OutboxDispatcher:
    outbox = app.state.resources.outbox
    assert isinstance(outbox, OutboxDispatcher)
    return outbox


async def deliver(app: FastAPI) -> int:
    """Run the outbox worker until nothing is due (as the background dispatcher would)."""
    return await dispatcher(app).drain()


async def register_device(
    client: httpx.AsyncClient, user: User, token: str, platform: str = "ios", **extra: Any
) -> dict[str, Any]:
    body = {"token": token, "platform": platform, **extra}
    return ok(await client.post(DEVICES, headers=user.headers, json=body), 201)  # type: ignore[no-any-return]


async def set_preferences(client: httpx.AsyncClient, user: User, **changes: Any) -> dict[str, Any]:
    return ok(await client.patch(PREFERENCES, headers=user.headers, json=changes))  # type: ignore[no-any-return]


async def set_timezone(client: httpx.AsyncClient, user: User, zone: str) -> None:
    ok(await client.patch(PROFILE_PREFERENCES, headers=user.headers, json={"timezone": zone}))


async def notifications(client: httpx.AsyncClient, user: User, **params: Any) -> list[dict[str, Any]]:
    return ok(await client.get(NOTIFICATIONS, headers=user.headers, params=params))  # type: ignore[no-any-return]


async def complete_fast(client: httpx.AsyncClient, user: User, start: datetime, **body: Any) -> dict[str, Any]:
    """Open a fast that started at `start` and close it now as completed."""
    opened = ok(
        await client.post(
            WINDOWS, headers=user.headers, json={"window_type": "fast", "start_time": start.isoformat(), **body}
        ),
        201,
    )
    return ok(await client.post(f"{WINDOWS}/{opened['id']}/close", headers=user.headers))  # type: ignore[no-any-return]
