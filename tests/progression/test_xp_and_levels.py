"""XP the server credits for fasts, weigh-ins and workouts, and a level that always agrees with the
XP ledger."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import admin_user, anonymous_user, fresh_token
from tests.progression.helpers import (
    WINDOWS,
    XP_HISTORY,
    close_fast,
    complete_workout,
    grant_xp,
    ledger,
    ledger_amounts,
    level,
    log_fast,
    log_weight,
    ok,
    open_fast,
    set_timezone,
    streak,
    utc,
)

NOW = utc(3, 10, 12)


@pytest.mark.parametrize(
    ("hours", "xp"),
    [(12, 25), (15.99, 25), (16, 50), (17.5, 50), (18, 75), (19, 75), (20, 100), (23.5, 100), (24, 150), (30, 150)],
)
async def test_completed_fast_earns_xp_by_its_hour_band(app: FastAPI, client: httpx.AsyncClient, hours, xp) -> None:
    user = await anonymous_user(app)
    await log_fast(client, user, NOW - timedelta(hours=hours), NOW)
    assert await ledger_amounts(client, user, "fast_completed") == [xp]


async def test_fast_under_twelve_hours_earns_nothing_and_no_streak(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    closed = await log_fast(client, user, NOW - timedelta(hours=11, minutes=59), NOW)
    assert closed["xp_earned"] == 0
    assert closed["credited"] is False
    assert closed["credit_reason"]
    assert await ledger(client, user) == []
    assert (await streak(client, user))["current_count"] == 0
    assert (await level(client, user))["total_xp_earned"] == 0


async def test_paused_time_does_not_count_toward_the_fast_band(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    window_id = await open_fast(client, user)
    clock.advance(hours=10)
    await fresh_token(app, user)
    ok(await client.post(f"{WINDOWS}/{window_id}/pause", headers=user.headers))
    clock.advance(hours=2)
    await fresh_token(app, user)
    ok(await client.post(f"{WINDOWS}/{window_id}/resume", headers=user.headers))
    clock.advance(hours=4)  # 16 h on the clock, 14 h fasted
    await fresh_token(app, user)
    await close_fast(client, user, window_id)
    assert await ledger_amounts(client, user, "fast_completed") == [25]


async def test_weight_logs_earn_ten_xp_once_a_local_day(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    first = await log_weight(app, user, utc(3, 10, 7))
    second = await log_weight(app, user, utc(3, 10, 11))
    assert first is not None
    assert first.credited
    assert first.base_xp == 10
    assert second is not None
    assert not second.credited
    assert second.xp_earned == 0
    assert await ledger_amounts(client, user, "weight_logged") == [10]


async def test_weight_log_the_next_day_earns_another_ten_xp(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await log_weight(app, user, utc(3, 9, 8))
    await log_weight(app, user, utc(3, 9, 20))
    await log_weight(app, user, utc(3, 10, 8))
    assert await ledger_amounts(client, user, "weight_logged") == [10, 10]
    assert (await streak(client, user, "logging"))["current_count"] == 2


async def test_weigh_ins_on_one_local_day_earn_once_even_across_utc_midnight(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    auckland = await anonymous_user(app)
    in_utc = await anonymous_user(app)
    await set_timezone(client, auckland, "Pacific/Auckland")
    for user in (auckland, in_utc):
        await log_weight(app, user, utc(3, 9, 20))  # 09:00 Tuesday in Auckland, Monday evening in UTC
        await log_weight(app, user, utc(3, 10, 8))  # 21:00 Tuesday in Auckland, Tuesday morning in UTC
    assert await ledger_amounts(client, auckland, "weight_logged") == [10]
    assert await ledger_amounts(client, in_utc, "weight_logged") == [10, 10]


@pytest.mark.parametrize(("difficulty", "xp"), [("beginner", 30), ("intermediate", 45), ("advanced", 60)])
async def test_eligible_workout_earns_xp_by_difficulty(app: FastAPI, client: httpx.AsyncClient, difficulty, xp) -> None:
    user = await anonymous_user(app)
    reward = await complete_workout(app, user, NOW, difficulty=difficulty)
    assert reward is not None
    assert reward.base_xp == xp
    assert await ledger_amounts(client, user, "workout_completed") == [xp]
    assert (await streak(client, user, "workout"))["current_count"] == 1


async def test_workout_shorter_than_half_its_plan_earns_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    reward = await complete_workout(app, user, NOW, difficulty="advanced", eligible=False)
    assert reward is not None
    assert not reward.credited
    assert reward.xp_earned == 0
    assert await ledger(client, user) == []
    assert (await streak(client, user, "workout"))["current_count"] == 0


async def test_level_total_equals_the_sum_of_the_ledger_including_achievement_xp(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await log_fast(client, user, utc(3, 8, 0), utc(3, 8, 21))  # 100 + First Fast + Extended Fast + Welcome
    await log_fast(client, user, utc(3, 9, 0), utc(3, 9, 12))
    await log_fast(client, user, utc(3, 10, 0), utc(3, 10, 12))  # 3-day streak: bonus + Getting Started
    await log_weight(app, user, utc(3, 10, 9))  # First Weigh-In
    rows = await ledger(client, user)
    kinds = {row["transaction_type"] for row in rows}
    assert {"fast_completed", "streak_bonus", "achievement_unlocked", "weight_logged"} <= kinds
    body = await level(client, user)
    assert body["total_xp_earned"] == sum(row["amount"] for row in rows)
    # 100+25+25 fasts, 25 bonus, 10 weight; First Fast 25, Extended 100, Welcome 50, Getting Started 50, Weigh-In 25
    assert body["total_xp_earned"] == 435
    assert body["current_level"] == 3
    assert body["current_xp"] == 135
    assert body["xp_for_next_level"] == 300
    assert body["xp_progress_percent"] == 45.0
    assert body["title"] == "Beginner"


async def test_close_reports_level_up_and_new_level_when_crossing_100_xp(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    window_id = await open_fast(client, user)
    clock.advance(hours=12)
    await fresh_token(app, user)
    closed = await close_fast(client, user, window_id)
    # 25 for the fast, First Fast 25, Welcome to UGOKI 50: exactly the 100 of level 2.
    assert closed["xp_earned"] == 100
    assert closed["level_up"] is True
    assert closed["new_level"] == 2
    assert names_of(closed) == {"First Fast", "Welcome to UGOKI"}
    assert (await level(client, user))["current_level"] == 2


async def test_close_without_crossing_a_level_reports_no_level_up(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await log_fast(client, user, utc(3, 9, 0), utc(3, 9, 12))  # 100 XP: level 2
    window_id = await open_fast(client, user)
    clock.advance(hours=12)
    await fresh_token(app, user)
    closed = await close_fast(client, user, window_id)
    assert closed["xp_earned"] == 25
    assert closed["level_up"] is False
    assert (await level(client, user))["total_xp_earned"] == 125


async def test_manual_xp_of_a_fast_type_does_not_count_as_a_fast(app: FastAPI, client: httpx.AsyncClient) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)
    await grant_xp(client, admin, user, 50, transaction_type="fast_completed")
    mine = ok(await client.get("/api/v1/progression/achievements/mine", headers=user.headers))
    first_fast = next(a for a in mine if a["achievement"]["name"] == "First Fast")
    assert first_fast["is_unlocked"] is False
    assert first_fast["progress"] == 0
    assert (await level(client, user))["total_xp_earned"] == 50


def names_of(closed: dict) -> set[str]:
    return {a["name"] for a in closed["achievements_unlocked"]}


async def test_xp_history_is_newest_first_with_offsets_and_pages(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)
    for amount in (1, 2, 3):
        await grant_xp(client, admin, user, amount)
        clock.advance(minutes=1)
    rows = await ledger(client, user)
    assert [r["amount"] for r in rows] == [3, 2, 1]
    assert all(r["created_at"].endswith(("Z", "+00:00")) for r in rows)
    page = ok(await client.get(XP_HISTORY, headers=user.headers, params={"limit": 1, "offset": 1}))
    assert [r["amount"] for r in page] == [2]
    assert (await client.get(XP_HISTORY, headers=user.headers, params={"limit": 101})).status_code == 422
    assert (await client.get(XP_HISTORY)).status_code == 401
