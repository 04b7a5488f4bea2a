"""Shared by the coach tests: routes, a person with a realistic history, SSE parsing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import User, anonymous_user, fresh_token
from tests.http import assert_problem as assert_problem
from tests.http import ok as ok

API = "/api/v1"
COACH = f"{API}/coach"
CHAT = f"{COACH}/chat"
STREAM = f"{COACH}/stream"
CONVERSATIONS = f"{COACH}/conversations"
MEMORIES = f"{COACH}/memories"
SETTINGS = f"{COACH}/settings"
WINDOWS = f"{API}/time-keeper/windows"
METRICS = f"{API}/metrics"
PREFERENCES = f"{API}/profile/preferences"
GOALS = f"{API}/profile/goals"
DIETARY = f"{API}/profile/dietary"
HEALTH = f"{API}/profile/health"
RESTRICTIONS = f"{API}/profile/workout-restrictions"
RECOMMENDATIONS = f"{API}/content/recommendations"
WORKOUTS = f"{API}/content/workouts"
SESSIONS = f"{API}/content/sessions"

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def utc(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


async def ask(client: httpx.AsyncClient, user: User, message: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = ok(await client.post(CHAT, headers=user.headers, json={"message": message, **extra}))
    return body


def events(response: httpx.Response) -> list[dict[str, Any]]:
    """The `data:` payloads of a server-sent event stream, in order."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    out = []
    for block in response.text.split("\n\n"):
        if block.strip():
            assert block.startswith("data: "), block
            out.append(json.loads(block[len("data: ") :]))
    return out


async def stream(client: httpx.AsyncClient, user: User, message: str, **extra: Any) -> list[dict[str, Any]]:
    return events(await client.post(STREAM, headers=user.headers, json={"message": message, **extra}))


@dataclass
class Person:
    user: User
    recommended: dict[str, Any]


async def _workout(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, user: User, at: datetime) -> None:
    workouts = ok(await client.get(WORKOUTS, params={"limit": 100}))
    workout = next(w for w in workouts if w["difficulty"] == "beginner" and not w["is_premium"])
    clock.set(at)
    await fresh_token(app, user)
    session = ok(await client.post(SESSIONS, headers=user.headers, json={"workout_id": workout["id"]}), 201)
    clock.advance(minutes=workout["duration_minutes"])
    await fresh_token(app, user)
    ok(await client.post(f"{SESSIONS}/{session['id']}/complete", headers=user.headers, json={}))


async def person_with_history(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> Person:
    """Someone with three logged fasts this week (16 h, 15 h, 14.6 h: 15.2 h on average), two
    workouts, a falling weight, a lab report, last night's sleep, a vegetarian diet with an egg
    allergy, a knee injury, and a 16:8 fast running for 13 h 20 min at NOW."""
    user = await anonymous_user(app)
    ok(await client.patch(GOALS, headers=user.headers, json={"target_weight_kg": 78, "weekly_workout_goal": 3}))
    ok(
        await client.patch(
            DIETARY, headers=user.headers, json={"dietary_preference": "vegetarian", "allergies": ["eggs"]}
        )
    )
    ok(await client.patch(RESTRICTIONS, headers=user.headers, json={"injury_areas": ["knee"]}))
    await _workout(app, client, clock, user, utc(3, 7, 18))
    await _workout(app, client, clock, user, utc(3, 9, 18))
    clock.set(NOW)
    await fresh_token(app, user)
    for start, end in (
        (utc(3, 6, 20), utc(3, 7, 12)),
        (utc(3, 7, 20), utc(3, 8, 11)),
        (utc(3, 8, 20), utc(3, 9, 10, 36)),
    ):
        ok(
            await client.post(
                WINDOWS,
                headers=user.headers,
                json={
                    "window_type": "fast",
                    "protocol": "16:8",
                    "start_time": start.isoformat(),
                    "end_time": end.isoformat(),
                },
            ),
            201,
        )
    for day, kg in ((12, 84.0), (24, 83.1)):
        await record(client, user, "weight_kg", kg, utc(2, day, 8))
    await record(client, user, "weight_kg", 82.4, utc(3, 9, 8))
    lab = utc(3, 2, 9)
    await record(
        client,
        user,
        "biomarker_ldl_cholesterol",
        3.4,
        lab,
        unit="mmol/L",
        reference_low=0,
        reference_high=3.0,
        flag="high",
    )
    await record(
        client,
        user,
        "biomarker_hdl_cholesterol",
        1.5,
        lab,
        unit="mmol/L",
        reference_low=1.0,
        reference_high=2.5,
        flag="normal",
    )
    await record(
        client, user, "biomarker_ferritin", 85, lab, unit="ug/L", reference_low=30, reference_high=400, flag="normal"
    )
    await record(client, user, "sleep_hours", 6.5, NOW - timedelta(hours=5), source="device_sync")
    await record(client, user, "health_resting_hr", 58, NOW - timedelta(hours=4), source="device_sync")
    start = NOW - timedelta(hours=13, minutes=20)
    ok(
        await client.post(
            WINDOWS,
            headers=user.headers,
            json={"window_type": "fast", "protocol": "16:8", "start_time": start.isoformat()},
        ),
        201,
    )
    recommended = ok(await client.get(RECOMMENDATIONS, headers=user.headers))
    return Person(user, recommended[0] if recommended else {})


async def record(
    client: httpx.AsyncClient, user: User, metric_type: str, value: float, at: datetime, **fields: Any
) -> None:
    payload = {"metric_type": metric_type, "value": value, "timestamp": at.isoformat(), **fields}
    ok(await client.post(METRICS, headers=user.headers, json=payload), 201)
