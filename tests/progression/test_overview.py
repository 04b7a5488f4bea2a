"""The overview the app's home screen shows: level, streaks, recent achievements, and XP today /
this week in the person's time zone."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import admin_user, anonymous_user, fresh_token
from tests.progression.helpers import (
    ACHIEVEMENTS,
    OVERVIEW,
    STREAKS,
    complete_workout,
    grant_xp,
    level,
    log_fast,
    log_weight,
    ok,
    set_timezone,
    social,
    utc,
)

NOW = utc(3, 10, 12)
VISIBLE_ACHIEVEMENTS = 27  # progress counts the visible ones (plus hidden ones once found)


async def test_overview_has_every_reference_field_consistent_with_the_other_reads(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await log_fast(client, user, NOW - timedelta(hours=16), NOW)
    await log_weight(app, user, NOW)
    body = ok(await client.get(OVERVIEW, headers=user.headers))
    assert body["identity_id"] == user.id
    assert body["level"] == await level(client, user)
    assert body["streaks"] == ok(await client.get(STREAKS, headers=user.headers))
    assert {s["streak_type"]: s["current_count"] for s in body["streaks"]} == {"fasting": 1, "workout": 0, "logging": 1}
    recent = {a["achievement"]["name"] for a in body["recent_achievements"]}
    assert recent == {"First Fast", "Welcome to UGOKI", "First Weigh-In"}
    assert all(a["is_unlocked"] for a in body["recent_achievements"])
    assert body["total_achievements"] == len(ok(await client.get(ACHIEVEMENTS)))
    assert body["achievements_unlocked"] == 3
    assert body["achievement_progress_percent"] == round(3 * 100 / VISIBLE_ACHIEVEMENTS, 1)
    total = 50 + 10 + 25 + 50 + 25
    assert body["xp"] == {"total": total, "today": total, "this_week": total}
    assert body["level"]["total_xp_earned"] == total


async def test_overview_of_a_new_person_is_empty_but_complete(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    body = ok(await client.get(OVERVIEW, headers=user.headers))
    assert body["level"]["current_level"] == 1
    assert body["level"]["title"] == "Beginner"
    assert [s["current_count"] for s in body["streaks"]] == [0, 0, 0]
    assert body["recent_achievements"] == []
    assert body["achievements_unlocked"] == 0
    assert body["achievement_progress_percent"] == 0.0
    assert body["total_achievements"] > 0
    assert body["xp"] == {"total": 0, "today": 0, "this_week": 0}


async def test_overview_needs_authentication(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert (await client.get(OVERVIEW)).status_code == 401


async def test_xp_today_and_this_week_are_streak_days_of_the_person_time_zone(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    clock.set(utc(3, 8, 10))
    admin = await admin_user(app)
    auckland = await anonymous_user(app)
    in_utc = await anonymous_user(app)
    await set_timezone(client, auckland, "Pacific/Auckland")

    async def grant_at(at: datetime, amount: int) -> None:
        clock.set(at)
        await fresh_token(app, admin)
        for user in (auckland, in_utc):
            await grant_xp(client, admin, user, amount)

    # "Today" and "this week" are streak days, which begin at 04:00 local time.
    await grant_at(utc(3, 8, 10), 1)  # Sun 23:00 in Auckland (Sun) | Sun 10:00 UTC (Sun)
    await grant_at(utc(3, 8, 16), 2)  # Mon 05:00 in Auckland (Mon) | Sun 16:00 UTC (Sun)
    await grant_at(utc(3, 10, 10, 30), 4)  # Tue 23:30 in Auckland (Tue) | Tue 10:30 UTC (Tue)
    await grant_at(utc(3, 10, 11, 30), 8)  # Wed 00:30 in Auckland (still Tue) | Tue 11:30 UTC (Tue)
    clock.set(NOW)  # Wed 01:00 in Auckland: the Tuesday streak day | Tue 12:00 UTC
    for user in (auckland, in_utc):
        await fresh_token(app, user)

    nz = ok(await client.get(OVERVIEW, headers=auckland.headers))["xp"]
    utc_xp = ok(await client.get(OVERVIEW, headers=in_utc.headers))["xp"]
    assert nz == {"total": 15, "today": 12, "this_week": 14}
    assert utc_xp == {"total": 15, "today": 12, "this_week": 12}


async def test_recent_achievements_are_the_five_newest_unlocks_newest_first(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await log_fast(client, user, NOW - timedelta(hours=13), NOW)  # First Fast, Welcome to UGOKI
    clock.advance(minutes=1)
    await log_weight(app, user, clock.now())  # First Weigh-In
    clock.advance(minutes=1)
    await complete_workout(app, user, utc(3, 10, 6))  # First Sweat, Early Bird
    clock.advance(minutes=1)
    await social(app, user, clock.now(), friends_count=5)  # Social Butterfly
    clock.advance(minutes=1)
    await social(app, user, clock.now(), challenge_joined=True)  # Challenge Accepted

    body = ok(await client.get(OVERVIEW, headers=user.headers))
    recent = body["recent_achievements"]
    assert len(recent) == 5
    assert body["achievements_unlocked"] == 7
    order = [a["achievement"]["name"] for a in recent]
    assert order[:2] == ["Challenge Accepted", "Social Butterfly"]
    assert set(order[2:4]) == {"First Sweat", "Early Bird"}
    assert order[4] == "First Weigh-In"
    stamps = [a["unlocked_at"] for a in recent]
    assert stamps == sorted(stamps, reverse=True)
    assert body["achievement_progress_percent"] == round(7 * 100 / VISIBLE_ACHIEVEMENTS, 1)
