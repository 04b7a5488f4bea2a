"""Shared by the time keeper tests: the routes, the problem-body check and small steps a fasting
client takes (open a fast, close it, let time pass)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import User, fresh_token

# The shared answer checks, re-exported for the tests of this package.
from tests.http import assert_problem as assert_problem
from tests.http import ok as ok
from tests.support import iso

API = "/api/v1"
WINDOWS = f"{API}/time-keeper/windows"
ACTIVE = f"{WINDOWS}/active"
LEVEL = f"{API}/progression/level"
FEED = f"{API}/events/feed"
HEALTH = f"{API}/profile/health"
ONBOARDING = f"{API}/profile/onboarding"

HOUR = 3600


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def open_window(client: httpx.AsyncClient, user: User, **body: Any) -> dict[str, Any]:
    """Open a window (a fast unless `window_type` says otherwise); it must succeed."""
    payload: dict[str, Any] = {"window_type": "fast", **body}
    return ok(await client.post(WINDOWS, headers=user.headers, json=payload), 201)  # type: ignore[no-any-return]


async def open_fast_started(
    client: httpx.AsyncClient, user: User, clock: FrozenClock, hours_ago: float, **body: Any
) -> dict[str, Any]:
    """A fast whose real start was `hours_ago` hours before now (the app's "I started earlier")."""
    start = clock.now() - timedelta(hours=hours_ago)
    return await open_window(client, user, start_time=iso(start), **body)


async def close_window(client: httpx.AsyncClient, user: User, window_id: str, **body: Any) -> httpx.Response:
    return await client.post(f"{WINDOWS}/{window_id}/close", headers=user.headers, json=body or None)


async def get_window(client: httpx.AsyncClient, user: User, window_id: str) -> dict[str, Any]:
    return ok(await client.get(f"{WINDOWS}/{window_id}", headers=user.headers))  # type: ignore[no-any-return]


async def later(app: FastAPI, clock: FrozenClock, user: User, **delta: float) -> datetime:
    """Let time pass, then sign the person in again (access tokens live an hour)."""
    now = clock.advance(timedelta(**delta))
    await fresh_token(app, user)
    return now


def base_xp(closed: dict[str, Any]) -> int:
    """The fast's own XP in a close answer: all XP earned minus what achievements paid on top."""
    bonus = sum(int(a["xp_reward"]) for a in closed["achievements_unlocked"])
    return int(closed["xp_earned"]) - bonus
