"""Streak days in the person's time zone, the 04:00 day start, broken streaks, resets and the
milestone bonuses paid once per run."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import anonymous_user, fresh_token
from tests.progression.helpers import (
    STREAKS,
    fast_until,
    feed_types,
    ledger_amounts,
    log_fast,
    log_fast_on,
    log_weight,
    names,
    ok,
    set_timezone,
    streak,
    unlocked_names,
    utc,
)


async def test_fasts_ending_on_consecutive_days_extend_the_fasting_streak(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    first = await log_fast_on(client, user, 8)
    second = await log_fast_on(client, user, 9)
    third = await log_fast_on(client, user, 10)
    assert [c["streak"]["current_count"] for c in (first, second, third)] == [1, 2, 3]
    assert all(c["streak"]["extended"] for c in (first, second, third))
    body = await streak(client, user)
    assert body["current_count"] == 3
    assert body["longest_count"] == 3
    assert body["last_activity_date"] == "2026-03-10"
    assert body["started_at"] == "2026-03-08"
    assert body["active_today"] is True


async def test_streaks_lists_fasting_workout_and_logging_separately(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await log_fast_on(client, user, 10)
    streaks = {s["streak_type"]: s for s in ok(await client.get(STREAKS, headers=user.headers))}
    assert set(streaks) == {"fasting", "workout", "logging"}
    assert streaks["fasting"]["current_count"] == 1
    assert streaks["workout"]["current_count"] == 0
    assert streaks["logging"]["current_count"] == 0


async def test_unknown_streak_type_is_422(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.get(f"{STREAKS}/app_usage", headers=user.headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_second_fast_the_same_day_does_not_extend_the_streak(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await log_fast(client, user, utc(3, 9, 0), utc(3, 9, 12))
    again = await log_fast(client, user, utc(3, 9, 13), utc(3, 10, 1))
    assert again["streak"]["current_count"] == 1
    assert again["streak"]["extended"] is False
    assert (await streak(client, user))["current_count"] == 1


async def test_fast_ending_at_two_in_the_morning_local_counts_for_the_previous_day(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await set_timezone(client, user, "Pacific/Auckland")
    # 02:00 on Tuesday 10 March in Auckland (NZDT) is 13:00 UTC on Monday.
    await log_fast(client, user, utc(3, 9, 1), utc(3, 9, 13))
    assert (await streak(client, user))["last_activity_date"] == "2026-03-09"
    # 01:00 on Wednesday in Auckland: still Tuesday's streak day, the next one after Monday.
    closed = await log_fast(client, user, utc(3, 9, 14), utc(3, 10, 12))
    assert closed["streak"]["current_count"] == 2
    body = await streak(client, user)
    assert body["last_activity_date"] == "2026-03-10"
    assert body["current_count"] == 2


async def test_open_and_close_across_midnight_and_the_four_am_boundary(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    # Ends at 03:30 on 11 March: counts for 10 March.
    first = await fast_until(app, client, clock, user, utc(3, 11, 3, 30))
    assert first["streak"]["current_count"] == 1
    assert (await streak(client, user))["last_activity_date"] == "2026-03-10"
    # Runs 11 h of the 11 March streak day and ends at 05:00 on 12 March: counts for 12 March
    # only (a day it did not run most of is not covered), so 11 March is missing.
    clock.set(utc(3, 11, 17))
    await fresh_token(app, user)
    second = await fast_until(app, client, clock, user, utc(3, 12, 5))
    assert second["streak"]["current_count"] == 1
    body = await streak(client, user)
    assert body["last_activity_date"] == "2026-03-12"
    assert body["longest_count"] == 1


async def test_fast_ending_just_before_four_am_keeps_the_streak_going(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await fast_until(app, client, clock, user, utc(3, 11, 1))  # 10 March
    clock.set(utc(3, 11, 15))
    await fresh_token(app, user)
    second = await fast_until(app, client, clock, user, utc(3, 12, 3, 59))  # 11 March
    assert second["streak"]["current_count"] == 2
    assert second["streak"]["extended"] is True


async def test_streak_reads_as_zero_once_a_whole_day_is_missed(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await log_fast_on(client, user, 9)
    await log_fast_on(client, user, 10)
    clock.set(utc(3, 12, 3, 59))  # still 11 March's streak day: yesterday was credited
    await fresh_token(app, user)
    body = await streak(client, user)
    assert (body["current_count"], body["active_today"]) == (2, False)
    clock.set(utc(3, 12, 4))  # 12 March: 11 March was missed
    await fresh_token(app, user)
    body = await streak(client, user)
    assert body["current_count"] == 0
    assert body["longest_count"] == 2
    assert body["started_at"] is None
    assert body["last_activity_date"] == "2026-03-10"


async def test_after_a_gap_the_next_credited_day_emits_streak_reset_and_restarts_at_one(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await log_fast(client, user, utc(3, 4, 0), utc(3, 4, 13))
    await log_fast(client, user, utc(3, 5, 0), utc(3, 5, 13))
    assert not [e for e in await feed_types(client, user) if e["event_type"] == "streak_reset"]
    broken = await streak(client, user)
    assert (broken["current_count"], broken["longest_count"]) == (0, 2)

    closed = await log_fast(client, user, utc(3, 9, 23), utc(3, 10, 11))
    assert closed["streak"]["current_count"] == 1
    resets = [e for e in await feed_types(client, user) if e["event_type"] == "streak_reset"]
    assert len(resets) == 1
    assert resets[0]["metadata"]["streak_type"] == "fasting"
    assert resets[0]["metadata"]["previous_count"] == 2
    body = await streak(client, user)
    assert (body["current_count"], body["longest_count"], body["started_at"]) == (1, 2, "2026-03-10")


async def test_back_fill_of_an_isolated_earlier_day_leaves_the_current_streak_alone(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await log_fast_on(client, user, 9)
    await log_fast_on(client, user, 10)
    closed = await log_fast_on(client, user, 5)  # 6–8 March not fasted: joins nothing
    assert closed["streak"]["extended"] is False
    assert closed["xp_earned"] == 25  # the fast itself still earns its XP
    body = await streak(client, user)
    assert (body["current_count"], body["longest_count"], body["last_activity_date"]) == (2, 2, "2026-03-10")
    assert not [e for e in await feed_types(client, user) if e["event_type"] == "streak_reset"]


# Fasts logged after the fact repair the streak ------------------------------------------------


async def test_back_filling_the_missed_day_joins_a_live_fast_into_a_three_day_streak(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await log_fast_on(client, user, 8)
    live = await fast_until(app, client, clock, user, utc(3, 11, 1))  # closes at 01:00: 10 March's day
    assert (live["streak"]["current_count"], live["streak"]["longest_count"]) == (1, 1)  # 9 March missed
    assert await ledger_amounts(client, user, "streak_bonus") == []

    repaired = await log_fast_on(client, user, 9)
    assert repaired["streak"] == {"streak_type": "fasting", "current_count": 3, "longest_count": 3, "extended": True}
    assert repaired["xp_earned"] == 25 + 25 + 50  # the fast, the 3-day bonus, Getting Started
    assert "Getting Started" in names(repaired["achievements_unlocked"])
    body = await streak(client, user)
    assert (body["current_count"], body["longest_count"]) == (3, 3)
    assert (body["started_at"], body["last_activity_date"]) == ("2026-03-08", "2026-03-10")
    assert await ledger_amounts(client, user, "streak_bonus") == [25]
    # The reset written when 10 March restarted the streak stays in the history.
    resets = [e for e in await feed_types(client, user) if e["event_type"] == "streak_reset"]
    assert [e["metadata"]["previous_count"] for e in resets] == [1]

    # A second fast on the repaired day changes nothing more.
    again = await log_fast(client, user, utc(3, 9, 13), utc(3, 10, 1))
    assert again["streak"]["extended"] is False
    assert again["xp_earned"] == 25
    assert (await streak(client, user))["current_count"] == 3
    assert await ledger_amounts(client, user, "streak_bonus") == [25]


async def test_back_filling_a_gap_between_earlier_runs_raises_only_the_longest_count(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    for day in (4, 6, 7, 9, 10):  # runs: 4 | 6–7 | 9–10
        await log_fast_on(client, user, day)
    assert (await streak(client, user))["longest_count"] == 2

    closed = await log_fast_on(client, user, 5)  # 4–7 March: four days, not the current run
    assert closed["streak"]["extended"] is False
    body = await streak(client, user)
    assert (body["current_count"], body["longest_count"], body["started_at"]) == (2, 4, "2026-03-09")
    # The rebuilt run reached three days, which neither of its parts had: its bonus is paid once.
    assert await ledger_amounts(client, user, "streak_bonus") == [25]


async def test_joining_two_three_day_runs_pays_the_seven_day_bonus_but_not_the_three_day_one_again(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    for day in (4, 5, 6, 8, 9, 10):  # 7 March missed: two runs of three, each paid its bonus
        await log_fast_on(client, user, day)
    assert await ledger_amounts(client, user, "streak_bonus") == [25, 25]

    repaired = await log_fast_on(client, user, 7)
    assert repaired["streak"]["current_count"] == 7
    body = await streak(client, user)
    assert (body["current_count"], body["longest_count"], body["started_at"]) == (7, 7, "2026-03-04")
    assert await ledger_amounts(client, user, "streak_bonus") == [25, 25, 50]
    assert "Week Warrior" in await unlocked_names(client, user)
    increments = [e for e in await feed_types(client, user) if e["event_type"] == "streak_incremented"]
    assert any(e["metadata"].get("back_filled_day") == "2026-03-07" for e in increments)


async def test_back_filled_fast_is_placed_on_its_day_in_the_person_time_zone(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await set_timezone(client, user, "Asia/Tokyo")
    await log_fast(client, user, utc(3, 7, 22), utc(3, 8, 10))  # 19:00 Sunday 8 March in Tokyo
    await log_fast(client, user, utc(3, 9, 23), utc(3, 10, 11))  # 20:00 Tuesday 10 March in Tokyo
    assert (await streak(client, user))["current_count"] == 1
    # Ends 01:00 UTC on 9 March (still Sunday's day in UTC), 10:00 Monday in Tokyo: the missing day.
    closed = await log_fast(client, user, utc(3, 8, 13), utc(3, 9, 1))
    assert closed["streak"]["current_count"] == 3
    body = await streak(client, user)
    assert (body["current_count"], body["longest_count"], body["started_at"]) == (3, 3, "2026-03-08")


async def test_the_same_instants_make_different_streak_days_in_auckland_and_los_angeles(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    auckland = await anonymous_user(app)
    los_angeles = await anonymous_user(app)
    await set_timezone(client, auckland, "Pacific/Auckland")
    await set_timezone(client, los_angeles, "America/Los_Angeles")
    for user in (auckland, los_angeles):
        # Ends 01:00 Tue / 14:00 Tue in Auckland; 05:00 Mon / 18:00 Mon in Los Angeles.
        await log_fast(client, user, utc(3, 9, 0), utc(3, 9, 12))
        await log_fast(client, user, utc(3, 9, 13), utc(3, 10, 1))
    nz = await streak(client, auckland)
    la = await streak(client, los_angeles)
    assert (nz["current_count"], nz["last_activity_date"]) == (2, "2026-03-10")
    assert (la["current_count"], la["last_activity_date"]) == (1, "2026-03-09")


async def test_today_follows_the_person_time_zone_when_reading_a_streak(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await set_timezone(client, user, "Pacific/Auckland")
    await log_fast(client, user, utc(3, 8, 0), utc(3, 8, 12))  # 01:00 Mon 9 March NZDT: Sunday 8 March
    # 10 March 12:00 UTC is 01:00 Wednesday in Auckland, still Tuesday's streak day: Sunday is too old.
    assert (await streak(client, user))["current_count"] == 0
    clock.set(utc(3, 9, 14, 59))  # 03:59 Tuesday in Auckland: Monday's streak day
    await fresh_token(app, user)
    assert (await streak(client, user))["current_count"] == 1


# Milestones -----------------------------------------------------------------------------------


async def test_three_day_streak_pays_its_bonus_once_even_with_a_second_fast_that_day(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await log_fast_on(client, user, 7)
    await log_fast_on(client, user, 8)
    third = await log_fast_on(client, user, 9)
    assert third["streak"]["current_count"] == 3
    assert await ledger_amounts(client, user, "streak_bonus") == [25]
    again = await log_fast(client, user, utc(3, 9, 13), utc(3, 10, 1))  # same streak day
    assert again["xp_earned"] == 25  # the fast only, no bonus
    assert await ledger_amounts(client, user, "streak_bonus") == [25]


async def test_seven_day_streak_pays_fifty_on_top_of_the_three_day_bonus(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    for day in range(4, 11):
        await log_fast_on(client, user, day)
    assert (await streak(client, user))["current_count"] == 7
    assert await ledger_amounts(client, user, "streak_bonus") == [25, 50]
    assert {"Getting Started", "Week Warrior"} <= await unlocked_names(client, user)


async def test_a_new_run_reaching_three_days_pays_the_bonus_again(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    for day in (4, 5, 6):
        await log_fast_on(client, user, day)
    assert await ledger_amounts(client, user, "streak_bonus") == [25]
    for day in (8, 9):  # 7 March missed
        await log_fast_on(client, user, day)
    third = await log_fast_on(client, user, 10)
    assert third["streak"]["current_count"] == 3
    assert await ledger_amounts(client, user, "streak_bonus") == [25, 25]
    assert (await streak(client, user))["longest_count"] == 3


async def test_logging_streak_is_kept_apart_from_the_fasting_streak(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    for day in (8, 9, 10):
        await log_weight(app, user, utc(3, day, 9))
    logging = await streak(client, user, "logging")
    assert logging["current_count"] == 3
    assert (await streak(client, user, "fasting"))["current_count"] == 0
    # Getting Started is a fasting streak achievement: three days of weigh-ins do not unlock it.
    assert "Getting Started" not in await unlocked_names(client, user)
