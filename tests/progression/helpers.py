"""Shared by the progression tests: routes, the ways activities reach progression (the time
keeper API for fasts, domain events for the modules that publish workouts, weigh-ins and social
facts), and the looks behind the API a client cannot take (rows, SQL statement counts)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from src.core.bus import DomainEvent
from src.core.clock import FrozenClock
from src.core.contracts import Reward, SocialProgress, WeightLogged, WorkoutCompleted
from src.core.uow import UnitOfWork
from tests.factories import User, fresh_token

# The shared answer checks, re-exported for the tests of this package.
from tests.http import ok as ok
from tests.support import StatementLog, count_rows, counting_statements  # noqa: F401 - shared helpers, re-exported

API = "/api/v1"
PROGRESSION = f"{API}/progression"
LEVEL = f"{PROGRESSION}/level"
STREAKS = f"{PROGRESSION}/streaks"
XP_HISTORY = f"{PROGRESSION}/xp/history"
GRANT_XP = f"{PROGRESSION}/xp"
ACTIVITY = f"{PROGRESSION}/activity"
ACHIEVEMENTS = f"{PROGRESSION}/achievements"
MINE = f"{PROGRESSION}/achievements/mine"
CHECK = f"{PROGRESSION}/achievements/check"
OVERVIEW = f"{PROGRESSION}/overview"
WINDOWS = f"{API}/time-keeper/windows"
PREFERENCES = f"{API}/profile/preferences"
FEED = f"{API}/events/feed"


def utc(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An instant of 2026 in UTC."""
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


# Driving activities ---------------------------------------------------------------------------


async def set_timezone(client: httpx.AsyncClient, user: User, zone: str) -> None:
    body = ok(await client.patch(PREFERENCES, headers=user.headers, json={"timezone": zone}))
    assert body["timezone"] == zone


async def log_fast(client: httpx.AsyncClient, user: User, start: datetime, end: datetime) -> dict[str, Any]:
    """Back-fill a finished fast; the answer says what it earned."""
    body: dict[str, Any] = ok(
        await client.post(
            WINDOWS,
            headers=user.headers,
            json={"window_type": "fast", "start_time": start.isoformat(), "end_time": end.isoformat()},
        ),
        201,
    )
    assert body["state"] == "completed", body
    return body


async def log_fast_on(client: httpx.AsyncClient, user: User, day: int, *, month: int = 3) -> dict[str, Any]:
    """A 12-hour fast from 00:00 to 12:00 UTC on that day (a UTC person's streak day `day`)."""
    return await log_fast(client, user, utc(month, day, 0), utc(month, day, 12))


async def open_fast(client: httpx.AsyncClient, user: User) -> str:
    body = ok(await client.post(WINDOWS, headers=user.headers, json={"window_type": "fast"}), 201)
    return str(body["id"])


async def close_fast(client: httpx.AsyncClient, user: User, window_id: str) -> dict[str, Any]:
    body: dict[str, Any] = ok(
        await client.post(f"{WINDOWS}/{window_id}/close", headers=user.headers, json={"end_state": "completed"})
    )
    return body


async def fast_until(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, user: User, end: datetime
) -> dict[str, Any]:
    """Start a fast now, let the clock run to `end`, then close it as completed."""
    window_id = await open_fast(client, user)
    clock.set(end)
    await fresh_token(app, user)
    return await close_fast(client, user, window_id)


async def publish(app: FastAPI, event: DomainEvent) -> Reward | None:
    """Publish a domain event the way its owning module does: inside a unit of work, committed."""
    async with app.state.sessions.writer() as session:
        uow = UnitOfWork(session=session, resources=app.state.resources)
        outcome = await uow.publish(event)
        await session.commit()
    return outcome.first(Reward)


async def log_weight(app: FastAPI, user: User, at: datetime, kg: float = 80.0) -> Reward | None:
    return await publish(
        app, WeightLogged(identity_id=uuid.UUID(user.id), occurred_at=at, metric_id=uuid.uuid4(), value_kg=kg)
    )


async def complete_workout(
    app: FastAPI,
    user: User,
    at: datetime,
    *,
    difficulty: str = "beginner",
    category: str | None = "HIIT",
    eligible: bool = True,
) -> Reward | None:
    return await publish(
        app,
        WorkoutCompleted(
            identity_id=uuid.UUID(user.id),
            occurred_at=at,
            session_id=uuid.uuid4(),
            workout_id=uuid.uuid4(),
            workout_name=f"{difficulty} {category or 'workout'}",
            category=category,
            difficulty=difficulty,
            duration_seconds=1200,
            eligible=eligible,
        ),
    )


async def social(app: FastAPI, user: User, at: datetime, **facts: Any) -> Reward | None:
    return await publish(app, SocialProgress(identity_id=uuid.UUID(user.id), occurred_at=at, **facts))


async def grant_xp(client: httpx.AsyncClient, admin: User, user: User, amount: int, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = ok(
        await client.post(GRANT_XP, headers=admin.headers, json={"identity_id": user.id, "amount": amount, **extra}),
        201,
    )
    return body


# Reading --------------------------------------------------------------------------------------


async def ledger(client: httpx.AsyncClient, user: User) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ok(await client.get(XP_HISTORY, headers=user.headers, params={"limit": 100}))
    return rows


async def ledger_amounts(client: httpx.AsyncClient, user: User, kind: str) -> list[int]:
    return sorted(row["amount"] for row in await ledger(client, user) if row["transaction_type"] == kind)


async def level(client: httpx.AsyncClient, user: User) -> dict[str, Any]:
    body: dict[str, Any] = ok(await client.get(LEVEL, headers=user.headers))
    return body


async def streak(client: httpx.AsyncClient, user: User, kind: str = "fasting") -> dict[str, Any]:
    body: dict[str, Any] = ok(await client.get(f"{STREAKS}/{kind}", headers=user.headers))
    return body


async def mine(client: httpx.AsyncClient, user: User) -> dict[str, dict[str, Any]]:
    """The caller's achievements by name."""
    rows = ok(await client.get(MINE, headers=user.headers))
    return {row["achievement"]["name"]: row for row in rows}


async def unlocked_names(client: httpx.AsyncClient, user: User) -> set[str]:
    return {name for name, row in (await mine(client, user)).items() if row["is_unlocked"]}


async def feed_types(client: httpx.AsyncClient, user: User) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ok(
        await client.get(FEED, headers=user.headers, params={"category": "progression", "limit": 100})
    )
    return rows


def names(unlocked: list[dict[str, Any]]) -> set[str]:
    return {a["name"] for a in unlocked}


# Behind the API -------------------------------------------------------------------------------
