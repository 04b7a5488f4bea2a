"""What a completed workout earns: nothing under half the planned time; otherwise XP by
difficulty, the workout streak (local days), achievements, onboarding and journal events, all
reported in the completion's answer and consistent with the XP ledger."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.content.helpers import (
    FEED,
    HISTORY,
    ONBOARDING,
    SESSIONS,
    STATS,
    all_workouts,
    complete,
    do_workout,
    events_of,
    ledger,
    ok,
    set_timezone,
    start,
    total_xp,
    unlocked,
    utc,
    workout_named,
    workout_streak,
)
from tests.factories import User, anonymous_user, fresh_token


def achievement_names(body: dict[str, Any]) -> set[str]:
    return {a["name"] for a in body["achievements_unlocked"]}


async def test_completing_before_half_the_planned_time_is_not_credited_and_history_says_why(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    quick = await workout_named(client, "Quick HIIT Blast")
    session = await start(client, user, quick["id"])
    clock.advance(seconds=299)  # the plan is 600 s
    body = await complete(client, user, session["id"])
    assert body["status"] == "not_credited"
    (listed,) = ok(await client.get(HISTORY, headers=user.headers))
    assert (listed["status"], listed["credit_reason"]) == ("not_credited", body["credit_reason"])
    assert body["credited"] is False
    assert body["xp_earned"] == 0
    assert "too short" in body["credit_reason"].lower()
    assert body["duration_seconds"] == 299
    assert body["achievements_unlocked"] == []
    assert body["level_up"] is False
    assert await total_xp(client, user) == 0
    assert await ledger(client, user) == []
    assert (await workout_streak(client, user))["current_count"] == 0
    assert await unlocked(client, user) == set()
    assert (await workout_named(client, "Quick HIIT Blast"))["times_completed"] == 0
    assert ok(await client.get(ONBOARDING, headers=user.headers))["first_workout_completed"] is False


async def test_completing_at_exactly_half_the_planned_time_is_credited(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    body = await do_workout(app, client, clock, user, "Quick HIIT Blast", minutes=5)
    assert body["credited"] is True
    assert body["credit_reason"] is None
    assert body["duration_seconds"] == 300
    assert [row["amount"] for row in await ledger(client, user) if row["transaction_type"] == "workout_completed"] == [
        30
    ]


async def test_workout_xp_is_30_45_60_by_difficulty(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await do_workout(app, client, clock, user, "Meditation & Breathwork")  # first one: achievements out of the way
    before = await total_xp(client, user)
    earned = {}
    for name in ("Quick HIIT Blast", "Tabata Torch", "HIIT Inferno"):
        body = await do_workout(app, client, clock, user, name)
        earned[body["workout"]["difficulty"]] = body["xp_earned"]
        assert body["achievements_unlocked"] == []
    assert earned == {"beginner": 30, "intermediate": 45, "advanced": 60}
    assert await total_xp(client, user) == before + 135


async def test_session_xp_equals_what_the_ledger_received_for_it(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    for name in ("Quick HIIT Blast", "Morning Stretch", "Tabata Torch"):
        before = await total_xp(client, user)
        body = await do_workout(app, client, clock, user, name)
        assert body["xp_earned"] == await total_xp(client, user) - before
    history = ok(await client.get(HISTORY, headers=user.headers))
    assert sum(s["xp_earned"] for s in history) == await total_xp(client, user)
    assert sum(row["amount"] for row in await ledger(client, user)) == await total_xp(client, user)


async def test_first_credited_workout_unlocks_first_sweat_and_welcome_and_reports_the_level_up(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    body = await do_workout(app, client, clock, user, "Quick HIIT Blast")
    assert achievement_names(body) == {"First Sweat", "Welcome to UGOKI"}
    assert body["xp_earned"] == 30 + 25 + 50
    assert body["level_up"] is True
    assert body["new_level"] == 2
    assert body["streak"] == {"streak_type": "workout", "current_count": 1, "longest_count": 1, "extended": True}
    assert await unlocked(client, user) == {"First Sweat", "Welcome to UGOKI"}


async def test_credited_workout_counts_in_the_catalogue_and_marks_onboarding(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await do_workout(app, client, clock, user, "Quick HIIT Blast")
    assert (await workout_named(client, "Quick HIIT Blast"))["times_completed"] == 1
    assert ok(await client.get(ONBOARDING, headers=user.headers))["first_workout_completed"] is True


async def test_duration_is_the_time_actually_spent_not_the_plan(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    body = await do_workout(app, client, clock, user, "Quick HIIT Blast", minutes=7)
    assert body["duration_seconds"] == 420
    assert body["credited"] is True


async def test_plausible_client_calories_are_kept(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user = await anonymous_user(app)
    body = await do_workout(app, client, clock, user, "Quick HIIT Blast", calories_burned=150)
    assert body["calories_burned"] == 150


async def test_implausible_client_calories_are_replaced_by_the_estimate(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    body = await do_workout(app, client, clock, user, "Quick HIIT Blast", calories_burned=4000)
    assert body["calories_burned"] == 120


async def test_a_workout_left_open_for_days_counts_as_its_planned_duration_and_is_flagged(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    forgotten = await do_workout(app, client, clock, user, "Quick HIIT Blast", minutes=3 * 24 * 60)  # plan: 10 min
    assert forgotten["duration_seconds"] == 600
    assert forgotten["left_open"] is True
    assert forgotten["credited"] is True
    assert forgotten["calories_burned"] == 120
    history = {s["id"]: s for s in ok(await client.get(HISTORY, headers=user.headers))}
    assert (history[forgotten["id"]]["duration_seconds"], history[forgotten["id"]]["left_open"]) == (600, True)
    body = ok(await client.get(STATS, headers=user.headers))
    assert body["total_duration_minutes"] == 10
    assert body["average_workout_duration"] == 10.0


async def test_a_workout_longer_than_planned_but_under_twice_the_plan_keeps_its_time(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    body = await do_workout(app, client, clock, user, "Quick HIIT Blast", minutes=15)
    assert body["duration_seconds"] == 900
    assert ok(await client.get(STATS, headers=user.headers))["total_duration_minutes"] == 15


async def test_a_workout_abandoned_days_later_counts_as_its_planned_duration(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    session = await start(client, user, (await workout_named(client, "Quick HIIT Blast"))["id"])
    clock.advance(days=2)
    await fresh_token(app, user)
    body = ok(await client.post(f"{SESSIONS}/{session['id']}/abandon", headers=user.headers))
    assert body["status"] == "abandoned"
    assert (body["duration_seconds"], body["left_open"]) == (600, True)


async def test_credited_workout_with_calories_under_half_the_estimate_gets_the_estimate(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)  # Quick HIIT Blast: 120 kcal estimate, so the floor is 60
    zero = await do_workout(app, client, clock, user, "Quick HIIT Blast", calories_burned=0)
    just_under = await do_workout(app, client, clock, user, "Quick HIIT Blast", calories_burned=59)
    at_floor = await do_workout(app, client, clock, user, "Quick HIIT Blast", calories_burned=60)
    half_time = await do_workout(app, client, clock, user, "Quick HIIT Blast", minutes=5, calories_burned=10)
    assert all(b["credited"] for b in (zero, just_under, at_floor, half_time))
    assert zero["calories_burned"] == 120
    assert just_under["calories_burned"] == 120
    assert at_floor["calories_burned"] == 60
    assert half_time["calories_burned"] == 60  # our estimate for half the time: half of 120
    assert ok(await client.get(STATS, headers=user.headers))["total_calories_burned"] == 120 + 120 + 60 + 60


async def test_too_short_workout_keeps_the_clients_low_calories_not_the_estimate(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    body = await do_workout(app, client, clock, user, "Quick HIIT Blast", minutes=2, calories_burned=0)
    assert body["credited"] is False
    assert body["calories_burned"] == 0


async def test_completion_reports_the_xp_breakdown_that_adds_up_to_the_xp_earned(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    days = []
    for day in (10, 11, 12):
        clock.set(utc(3, day, 12))
        days.append(await do_workout(app, client, clock, user, "Tabata Torch"))
    first, _, third = days
    assert first["base_xp"] == 45
    assert first["streak_bonus_xp"] == 0
    assert first["achievement_xp"] == sum(a["xp_reward"] for a in first["achievements_unlocked"]) > 0
    assert third["streak"]["current_count"] == 3
    assert third["base_xp"] == 45
    assert third["streak_bonus_xp"] == 25  # the 3-day milestone
    assert third["achievement_xp"] == sum(a["xp_reward"] for a in third["achievements_unlocked"])
    for body in days:
        assert body["xp_earned"] == body["base_xp"] + body["streak_bonus_xp"] + body["achievement_xp"]
    assert sum(b["xp_earned"] for b in days) == await total_xp(client, user)


async def test_too_short_workout_reports_an_empty_xp_breakdown(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    body = await do_workout(app, client, clock, user, "Quick HIIT Blast", minutes=1)
    assert (body["xp_earned"], body["base_xp"], body["streak_bonus_xp"], body["achievement_xp"]) == (0, 0, 0, 0)


async def test_missing_calories_are_estimated_from_the_time_spent(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    full = await do_workout(app, client, clock, user, "Quick HIIT Blast")
    half = await do_workout(app, client, clock, user, "Quick HIIT Blast", minutes=5)
    assert full["calories_burned"] == 120
    assert half["calories_burned"] == 60


async def test_workout_streak_extends_on_consecutive_days(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    first = await do_workout(app, client, clock, user, "Quick HIIT Blast")
    clock.set(utc(3, 11, 12))
    second = await do_workout(app, client, clock, user, "Morning Stretch")
    same_day = await do_workout(app, client, clock, user, "Cardio Kickstart")
    assert first["streak"]["current_count"] == 1
    assert second["streak"] == {"streak_type": "workout", "current_count": 2, "longest_count": 2, "extended": True}
    assert same_day["streak"]["current_count"] == 2
    assert same_day["streak"]["extended"] is False
    assert (await workout_streak(client, user))["current_count"] == 2


async def test_workout_streak_counts_days_in_the_persons_time_zone(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    west, london = await anonymous_user(app), await anonymous_user(app)
    await set_timezone(client, west, "America/Los_Angeles")
    # 16:10 UTC then 06:10 UTC the next day: two UTC days, but both Tuesday in Los Angeles (09:10, 23:10).
    clock.set(utc(3, 10, 16))
    for user in (west, london):
        await do_workout(app, client, clock, user, "Quick HIIT Blast", minutes=10)
        clock.set(utc(3, 10, 16))
    clock.set(utc(3, 11, 6))
    late = {}
    for user in (west, london):
        late[user.id] = await do_workout(app, client, clock, user, "Morning Stretch", minutes=10)
        clock.set(utc(3, 11, 6))
    assert late[west.id]["streak"]["current_count"] == 1
    assert late[west.id]["streak"]["extended"] is False
    assert late[london.id]["streak"]["current_count"] == 2


async def _both_finish_at(
    app: FastAPI,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    users: list[User],
    start_at: datetime,
    name: str,
) -> list[dict[str, Any]]:
    """Each person does the workout from `start_at` for its planned duration."""
    bodies = []
    for user in users:
        clock.set(start_at)
        bodies.append(await do_workout(app, client, clock, user, name))
    return bodies


async def test_early_bird_unlocks_for_a_workout_finished_before_seven_local_time(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    auckland, utc_person = await anonymous_user(app), await anonymous_user(app)
    await set_timezone(client, auckland, "Pacific/Auckland")
    # 17:20-17:30 UTC is 06:20-06:30 on Wednesday in Auckland (NZDT, UTC+13).
    kiwi, control = await _both_finish_at(
        app, client, clock, [auckland, utc_person], utc(3, 10, 17, 20), "Quick HIIT Blast"
    )
    assert "Early Bird" in achievement_names(kiwi)
    assert "Early Bird" not in achievement_names(control)
    assert "Night Owl" not in achievement_names(kiwi) | achievement_names(control)


async def test_night_owl_unlocks_for_a_workout_finished_after_nine_pm_local_time(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    auckland, utc_person = await anonymous_user(app), await anonymous_user(app)
    await set_timezone(client, auckland, "Pacific/Auckland")
    # 08:20-08:30 UTC is 21:20-21:30 in Auckland.
    kiwi, control = await _both_finish_at(
        app, client, clock, [auckland, utc_person], utc(3, 11, 8, 20), "Quick HIIT Blast"
    )
    assert "Night Owl" in achievement_names(kiwi)
    assert "Night Owl" not in achievement_names(control)
    assert "Early Bird" not in achievement_names(kiwi)


async def test_too_short_early_workout_unlocks_nothing(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await set_timezone(client, user, "Pacific/Auckland")
    clock.set(utc(3, 10, 17, 20))
    body = await do_workout(app, client, clock, user, "Quick HIIT Blast", minutes=2)
    assert body["credited"] is False
    assert await unlocked(client, user) == set()


async def test_variety_pack_unlocks_after_a_credited_workout_in_each_of_the_five_categories(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    for name in ("Quick HIIT Blast", "Bodyweight Basics", "Cardio Kickstart", "Morning Stretch"):
        body = await do_workout(app, client, clock, user, name)
        assert "Variety Pack" not in achievement_names(body)
    too_short = await do_workout(app, client, clock, user, "Post-Workout Cooldown", minutes=3)
    assert too_short["credited"] is False
    assert "Variety Pack" not in await unlocked(client, user)
    last = await do_workout(app, client, clock, user, "Post-Workout Cooldown")
    assert "Variety Pack" in achievement_names(last)
    assert "Variety Pack" in await unlocked(client, user)


async def test_completion_is_journalled_and_shown_in_the_feed(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    body = await do_workout(app, client, clock, user, "Quick HIIT Blast")
    events = await events_of(client, user, "workout_completed")
    assert len(events) == 1
    assert events[0]["related_id"] == body["id"]
    assert events[0]["metadata"]["workout_name"] == "Quick HIIT Blast"
    assert events[0]["metadata"]["xp_earned"] == body["xp_earned"]
    feed = ok(await client.get(FEED, headers=user.headers, params={"category": "workout"}))
    completed = [item for item in feed if item["event_type"] == "workout_completed"]
    # The parts name what the 105 XP of the answer were.
    assert body["xp_earned"] == 105
    assert completed[0]["description"] == (
        "Quick HIIT Blast (10 min): 30 XP, +25 XP achievement 'First Sweat', +50 XP achievement 'Welcome to UGOKI'"
    )
    assert {item["event_type"] for item in feed} >= {"workout_started", "workout_completed"}


async def test_a_second_workout_the_same_day_keeps_xp_but_not_a_new_streak_day(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await do_workout(app, client, clock, user, "Quick HIIT Blast")
    clock.advance(timedelta(hours=2))
    second = await do_workout(app, client, clock, user, "Quick HIIT Blast")
    assert second["xp_earned"] == 30
    assert second["streak"]["extended"] is False
    assert (await workout_named(client, "Quick HIIT Blast"))["times_completed"] == 2


async def test_early_bird_goes_by_the_local_time_the_session_started(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await set_timezone(client, user, "America/New_York")
    clock.set(utc(3, 10, 10, 50))  # 06:50 EDT: started before seven, finished after
    done = await do_workout(app, client, clock, user, "Quick HIIT Blast", minutes=15)
    assert "Early Bird" in achievement_names(done)


async def test_category_workout_count_in_workout_and_session_payloads_is_the_real_count(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    workouts = await all_workouts(client)
    real: dict[str, int] = {}
    for w in workouts:
        real[w["category_id"]] = real.get(w["category_id"], 0) + 1
    assert all(w["category"]["workout_count"] == real[w["category_id"]] for w in workouts)
    done = await do_workout(app, client, clock, user, "Quick HIIT Blast")
    assert done["workout"]["category"]["workout_count"] == real[done["workout"]["category_id"]]
    (listed,) = ok(await client.get(HISTORY, headers=user.headers))
    assert listed["workout"]["category"]["workout_count"] == real[done["workout"]["category_id"]]
