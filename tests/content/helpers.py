"""Shared by the content tests: routes, catalogue look-ups, driving a workout the way the app
does (start, let the clock run, complete), and the looks behind the API a client cannot take
(rows, SQL statement counts, running the seeders)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import User, fresh_token

# The shared answer checks, re-exported for the tests of this package.
from tests.http import assert_problem as assert_problem
from tests.http import ok as ok
from tests.support import StatementLog, count_rows, counting_statements, in_unit_of_work  # noqa: F401 - shared helpers, re-exported

API = "/api/v1"
CONTENT = f"{API}/content"
CATEGORIES = f"{CONTENT}/categories"
WORKOUTS = f"{CONTENT}/workouts"
EXERCISES = f"{CONTENT}/exercises"
SESSIONS = f"{CONTENT}/sessions"
ACTIVE = f"{SESSIONS}/active"
HISTORY = f"{SESSIONS}/history"
RECOMMENDATIONS = f"{CONTENT}/recommendations"
STATS = f"{CONTENT}/stats"
RECIPES = f"{CONTENT}/recipes"
SAVED = f"{RECIPES}/saved"
SAVED_LIST = f"{RECIPES}/saved/list"

PREFERENCES = f"{API}/profile/preferences"
RESTRICTIONS = f"{API}/profile/workout-restrictions"
ONBOARDING = f"{API}/profile/onboarding"
EXPORT = f"{API}/profile/export"
ALL_DATA = f"{API}/profile/all-data"
LEVEL = f"{API}/progression/level"
XP_HISTORY = f"{API}/progression/xp/history"
STREAKS = f"{API}/progression/streaks"
MY_ACHIEVEMENTS = f"{API}/progression/achievements/mine"
EVENTS = f"{API}/events"
FEED = f"{API}/events/feed"


def utc(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An instant of 2026 in UTC."""
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


# Catalogue --------------------------------------------------------------------------------------


async def all_workouts(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ok(await client.get(WORKOUTS, params={"limit": 100, **params}))
    return rows


async def workout_named(client: httpx.AsyncClient, name: str) -> dict[str, Any]:
    for row in await all_workouts(client):
        if row["name"] == name:
            return row
    raise AssertionError(f"no workout named {name!r}")


async def workout_detail(client: httpx.AsyncClient, workout_id: str) -> dict[str, Any]:
    body: dict[str, Any] = ok(await client.get(f"{WORKOUTS}/{workout_id}", params={"include_exercises": "true"}))
    return body


async def all_recipes(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ok(await client.get(RECIPES, params={"limit": 100, **params}))
    return rows


async def recipe_named(client: httpx.AsyncClient, name: str, user: User | None = None) -> dict[str, Any]:
    rows: list[dict[str, Any]] = ok(
        await client.get(RECIPES, params={"limit": 100, "search": name}, headers=user.headers if user else {})
    )
    for row in rows:
        if row["name"] == name:
            return row
    raise AssertionError(f"no recipe named {name!r}")


# Workouts, as the app drives them ---------------------------------------------------------------


async def start(client: httpx.AsyncClient, user: User, workout_id: str) -> dict[str, Any]:
    body: dict[str, Any] = ok(await client.post(SESSIONS, headers=user.headers, json={"workout_id": workout_id}), 201)
    return body


async def complete(
    client: httpx.AsyncClient, user: User, session_id: str, *, calories_burned: int | None = None
) -> dict[str, Any]:
    payload = {} if calories_burned is None else {"calories_burned": calories_burned}
    body: dict[str, Any] = ok(
        await client.post(f"{SESSIONS}/{session_id}/complete", headers=user.headers, json=payload)
    )
    return body


async def do_workout(
    app: FastAPI,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    user: User,
    name: str,
    *,
    minutes: float | None = None,
    calories_burned: int | None = None,
) -> dict[str, Any]:
    """Start the named workout now, let `minutes` pass (default: its planned duration) and complete it
    (signing in again around it, as the clock may have jumped past the token's life)."""
    workout = await workout_named(client, name)
    await fresh_token(app, user)
    session = await start(client, user, workout["id"])
    clock.advance(minutes=workout["duration_minutes"] if minutes is None else minutes)
    await fresh_token(app, user)
    return await complete(client, user, session["id"], calories_burned=calories_burned)


async def set_timezone(client: httpx.AsyncClient, user: User, zone: str) -> None:
    body = ok(await client.patch(PREFERENCES, headers=user.headers, json={"timezone": zone}))
    assert body["timezone"] == zone


async def total_xp(client: httpx.AsyncClient, user: User) -> int:
    return int(ok(await client.get(LEVEL, headers=user.headers))["total_xp_earned"])


async def ledger(client: httpx.AsyncClient, user: User) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ok(await client.get(XP_HISTORY, headers=user.headers, params={"limit": 100}))
    return rows


async def workout_streak(client: httpx.AsyncClient, user: User) -> dict[str, Any]:
    body: dict[str, Any] = ok(await client.get(f"{STREAKS}/workout", headers=user.headers))
    return body


async def unlocked(client: httpx.AsyncClient, user: User) -> set[str]:
    rows = ok(await client.get(MY_ACHIEVEMENTS, headers=user.headers))
    return {row["achievement"]["name"] for row in rows if row["is_unlocked"]}


async def events_of(client: httpx.AsyncClient, user: User, event_type: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ok(
        await client.get(EVENTS, headers=user.headers, params={"event_type": event_type, "limit": 100})
    )
    return rows


def names(rows: list[dict[str, Any]]) -> list[str]:
    return [row["name"] for row in rows]


# Behind the API ---------------------------------------------------------------------------------


MINUTE = timedelta(minutes=1)
