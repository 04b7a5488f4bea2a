"""A week of a new person in New York, driven through the API on a frozen clock: 16:8 fasts from
Monday to Friday, a 20:4 fast from Saturday morning to Sunday 05:00, two workouts, a weigh-in every
morning (one of them in pounds). The numbers the app shows at the end add up and mean what they
say."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import User, anonymous_user, fresh_token
from tests.http import ok

API = "/api/v1"
WINDOWS = f"{API}/time-keeper/windows"
NEW_YORK = ZoneInfo("America/New_York")


def ny(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant of March 2026 in New York (EDT from 8 March)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=NEW_YORK)


async def at(app: FastAPI, clock: FrozenClock, user: User, when: datetime) -> None:
    clock.set(when)
    await fresh_token(app, user)


def parts_add_up(answer: dict[str, Any]) -> None:
    assert answer["xp_earned"] == answer["base_xp"] + answer["streak_bonus_xp"] + answer["achievement_xp"], answer


async def test_a_week_in_new_york_shows_numbers_that_add_up(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    clock.set(ny(8, 19))  # Sunday evening: the person installs the app
    user = await anonymous_user(app)
    ok(await client.patch(f"{API}/profile/preferences", headers=user.headers, json={"timezone": "America/New_York"}))
    ok(
        await client.patch(
            f"{API}/profile/preferences", headers=user.headers, json={"default_fasting_protocol": "16:8"}
        )
    )
    workout = ok(await client.get(f"{API}/content/workouts", params={"limit": 100}))[0]
    closes: list[dict[str, Any]] = []
    weigh_ins: list[dict[str, Any]] = []

    for day in range(9, 14):  # Monday 9 … Friday 13 March
        await at(app, clock, user, ny(day - 1, 20))
        fast = ok(await client.post(WINDOWS, headers=user.headers, json={"window_type": "fast"}), 201)
        assert fast["protocol"] == "16:8"
        assert fast["warnings"] == []
        await at(app, clock, user, ny(day, 7, 30))
        body: dict[str, Any] = {"metric_type": "weight_kg", "value": 82.0 - 0.2 * (day - 9)}
        if day == 11:  # Wednesday's scale is in pounds
            body = {"metric_type": "weight_kg", "value": 180.3, "unit": "lbs"}
        weigh_ins.append(ok(await client.post(f"{API}/metrics", headers=user.headers, json=body), 201))
        await at(app, clock, user, ny(day, 12))
        closes.append(ok(await client.post(f"{WINDOWS}/{fast['id']}/close", headers=user.headers)))
        if day in (10, 12):  # Tuesday and Thursday evening workouts
            await at(app, clock, user, ny(day, 18))
            session = ok(
                await client.post(f"{API}/content/sessions", headers=user.headers, json={"workout_id": workout["id"]}),
                201,
            )
            await at(app, clock, user, ny(day, 18) + timedelta(minutes=workout["duration_minutes"]))
            done = ok(await client.post(f"{API}/content/sessions/{session['id']}/complete", headers=user.headers))
            parts_add_up(done)
            assert done["base_xp"] > 0

    # The weekend: a 20:4 fast from Saturday 09:00 to Sunday 05:00, weigh-ins both mornings.
    await at(app, clock, user, ny(14, 7, 30))
    weigh_ins.append(
        ok(
            await client.post(f"{API}/metrics", headers=user.headers, json={"metric_type": "weight_kg", "value": 81.0}),
            201,
        )
    )
    await at(app, clock, user, ny(14, 9))
    weekend = ok(
        await client.post(WINDOWS, headers=user.headers, json={"window_type": "fast", "protocol": "20:4"}), 201
    )
    await at(app, clock, user, ny(15, 5))
    closes.append(ok(await client.post(f"{WINDOWS}/{weekend['id']}/close", headers=user.headers)))
    await at(app, clock, user, ny(15, 7, 30))
    weigh_ins.append(
        ok(
            await client.post(f"{API}/metrics", headers=user.headers, json={"metric_type": "weight_kg", "value": 80.8}),
            201,
        )
    )
    await at(app, clock, user, ny(15, 12))

    # Every fast counted; the XP of each answer is its parts; the fast's own XP is its band.
    assert [c["base_xp"] for c in closes] == [50, 50, 50, 50, 50, 100]
    for answer in closes:
        parts_add_up(answer)
        assert answer["credited"] is True
        assert answer["goal_met"] is True
    # Saturday counted: Monday to Sunday is one 7-day run, never reset.
    assert closes[-1]["streak"]["current_count"] == 7
    streaks = {s["streak_type"]: s for s in ok(await client.get(f"{API}/progression/streaks", headers=user.headers))}
    assert (streaks["fasting"]["current_count"], streaks["fasting"]["last_activity_date"]) == (7, "2026-03-15")
    assert (streaks["logging"]["current_count"], streaks["workout"]["current_count"]) == (7, 0)
    feed = ok(await client.get(f"{API}/events/feed", headers=user.headers, params={"limit": 100}))
    resets = [e["metadata"]["streak_type"] for e in feed if e["event_type"] == "streak_reset"]
    assert resets == ["workout"]  # Tuesday, then Thursday: only the workout streak started again
    line = next(e for e in feed if e["event_type"] == "fast_completed" and e["related_id"] == weekend["id"])
    assert line["description"].startswith("20 h fast: 100 XP, +50 XP streak bonus")

    # Weigh-ins: 10 XP a morning, the pounds stored as kilograms and shown back in pounds.
    for answer in weigh_ins:
        parts_add_up(answer)
        assert answer["base_xp"] == 10
    assert weigh_ins[2]["unit"] == "kg"
    assert round(weigh_ins[2]["value"], 2) == 81.78
    history = ok(
        await client.get(
            f"{API}/metrics/history",
            headers=user.headers,
            params={"metric_type": "weight_kg", "unit_system": "imperial"},
        )
    )
    assert [m["value"] for m in history] == [178.1, 178.6, 179.0, 179.5, 180.3, 180.3, 180.8]
    assert {m["unit"] for m in history} == {"lb"}
    trend = ok(await client.get(f"{API}/metrics/trend", headers=user.headers, params={"metric_type": "weight_kg"}))
    assert (trend["start_value"], trend["end_value"], trend["direction"]) == (82.0, 80.8, "down")

    # The overview agrees with the ledger: today is Sunday's streak day (from 04:00 New York time).
    ledger = ok(await client.get(f"{API}/progression/xp/history", headers=user.headers, params={"limit": 100}))
    overview = ok(await client.get(f"{API}/progression/overview", headers=user.headers))
    sunday = ny(15, 4)
    today = sum(r["amount"] for r in ledger if datetime.fromisoformat(r["created_at"]) >= sunday)
    assert overview["xp"]["total"] == sum(r["amount"] for r in ledger) == overview["level"]["total_xp_earned"]
    assert overview["xp"]["today"] == today
    assert today == closes[-1]["xp_earned"] + weigh_ins[-1]["xp_earned"]
    assert overview["xp"]["this_week"] == overview["xp"]["total"]
