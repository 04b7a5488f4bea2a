"""Workout statistics: credited workouts only, the week being the person's own calendar week
(Monday start) in their time zone."""

from __future__ import annotations

from datetime import datetime

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.content.helpers import (
    SESSIONS,
    STATS,
    assert_problem,
    do_workout,
    ok,
    set_timezone,
    start,
    utc,
    workout_named,
)
from tests.factories import User, anonymous_user, fresh_token

NOW = utc(3, 10, 12)  # a Tuesday


async def stats(client: httpx.AsyncClient, user: User) -> dict[str, object]:
    body: dict[str, object] = ok(await client.get(STATS, headers=user.headers))
    return body


async def test_stats_need_a_signed_in_caller(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(STATS), 401)


async def test_stats_of_someone_without_workouts_are_zero(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    body = await stats(client, user)
    assert body["total_workouts"] == 0
    assert body["total_duration_minutes"] == 0
    assert body["total_calories_burned"] == 0
    assert body["favorite_workout_type"] is None
    assert body["current_week_workouts"] == 0
    assert body["average_workout_duration"] == 0
    assert body["workouts_by_category"] == {"Cardio": 0, "Flexibility": 0, "HIIT": 0, "Recovery": 0, "Strength": 0}


async def test_stats_add_up_credited_workouts_only(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user, other = await anonymous_user(app), await anonymous_user(app)
    await do_workout(app, client, clock, user, "Quick HIIT Blast", calories_burned=100)
    await do_workout(app, client, clock, user, "Tabata Torch", calories_burned=150)
    await do_workout(app, client, clock, user, "Morning Stretch")  # estimated: 30 kcal
    too_short = await do_workout(app, client, clock, user, "Yoga Flow", minutes=3, calories_burned=20)
    assert too_short["credited"] is False
    abandoned = await start(client, user, (await workout_named(client, "Cardio Crusher"))["id"])
    clock.advance(minutes=20)
    await fresh_token(app, user)
    ok(await client.post(f"{SESSIONS}/{abandoned['id']}/abandon", headers=user.headers))
    await do_workout(app, client, clock, other, "Yoga Flow")
    body = await stats(client, user)
    assert body["total_workouts"] == 3
    assert body["total_duration_minutes"] == 35
    assert body["total_calories_burned"] == 280
    assert body["favorite_workout_type"] == "hiit"
    assert body["average_workout_duration"] == 11.7
    assert body["workouts_by_category"] == {"Cardio": 0, "Flexibility": 1, "HIIT": 2, "Recovery": 0, "Strength": 0}
    assert body["current_week_workouts"] == 3


async def _workout_finished_at(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, user: User, finish: datetime
) -> None:
    quick = await workout_named(client, "Quick HIIT Blast")
    clock.set(finish)
    clock.advance(minutes=-quick["duration_minutes"])
    await do_workout(app, client, clock, user, "Quick HIIT Blast")
    assert clock.now() == finish


async def test_this_week_starts_on_monday_in_the_persons_time_zone_east_of_utc(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    auckland, utc_person = await anonymous_user(app), await anonymous_user(app)
    await set_timezone(client, auckland, "Pacific/Auckland")
    # 21:10 UTC on Sunday the 8th is 10:10 on Monday the 9th in Auckland.
    for user in (auckland, utc_person):
        await _workout_finished_at(app, client, clock, user, utc(3, 8, 21, 10))
    clock.set(NOW)
    for user in (auckland, utc_person):
        await fresh_token(app, user)
    kiwi, control = await stats(client, auckland), await stats(client, utc_person)
    assert kiwi["current_week_workouts"] == 1
    assert control["current_week_workouts"] == 0
    assert kiwi["total_workouts"] == control["total_workouts"] == 1


async def test_this_week_starts_on_monday_in_the_persons_time_zone_west_of_utc(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    west, utc_person = await anonymous_user(app), await anonymous_user(app)
    await set_timezone(client, west, "America/Los_Angeles")
    # 05:00 UTC on Monday the 9th is 22:00 on Sunday the 8th in Los Angeles (PDT).
    for user in (west, utc_person):
        await _workout_finished_at(app, client, clock, user, utc(3, 9, 5))
    clock.set(NOW)
    for user in (west, utc_person):
        await fresh_token(app, user)
    assert (await stats(client, west))["current_week_workouts"] == 0
    assert (await stats(client, utc_person))["current_week_workouts"] == 1


async def test_a_workout_from_last_week_counts_in_totals_but_not_this_week(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await _workout_finished_at(app, client, clock, user, utc(3, 2, 18))
    await _workout_finished_at(app, client, clock, user, utc(3, 9, 0, 30))
    clock.set(NOW)
    await fresh_token(app, user)
    body = await stats(client, user)
    assert body["total_workouts"] == 2
    assert body["current_week_workouts"] == 1
