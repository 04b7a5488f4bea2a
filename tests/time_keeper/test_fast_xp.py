"""What closing a fast earns, as the close answer reports it: XP by the hours actually fasted
(pauses excluded), never for a fast under 12 hours or an abandoned one."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from src.modules.progression.rules import fast_streak_days
from tests.factories import anonymous_user
from tests.time_keeper.helpers import (
    HOUR,
    LEVEL,
    WINDOWS,
    base_xp,
    close_window,
    later,
    ok,
    open_fast_started,
    open_window,
)


@pytest.mark.parametrize(
    ("fasted", "xp"),
    [
        (timedelta(hours=12), 25),
        (timedelta(hours=15, minutes=59), 25),
        (timedelta(hours=16), 50),
        (timedelta(hours=17, minutes=59), 50),
        (timedelta(hours=18), 75),
        (timedelta(hours=20), 100),
        (timedelta(hours=23, minutes=59), 100),
        (timedelta(hours=24), 150),
        (timedelta(hours=40), 150),
    ],
)
async def test_completed_fast_earns_the_band_of_its_fasted_hours(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, fasted: timedelta, xp: int
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, start_time=(clock.now() - fasted).isoformat())

    closed = ok(await close_window(client, user, fast["id"], end_state="completed"))

    assert closed["state"] == "completed"
    assert closed["elapsed_seconds"] == int(fasted.total_seconds())
    assert closed["credited"] is True
    assert closed["credit_reason"] is None
    assert base_xp(closed) == xp
    level = ok(await client.get(LEVEL, headers=user.headers))["current_level"]
    assert closed["new_level"] == (level if closed["level_up"] else None)
    assert closed["streak"]["streak_type"] == "fasting"
    # One streak day, or more when the fast ran most of an earlier day too.
    days = fast_streak_days(clock.now() - fasted, clock.now(), "UTC")
    assert closed["streak"]["current_count"] == len(days)
    assert ok(await client.get(LEVEL, headers=user.headers))["total_xp_earned"] == closed["xp_earned"]


async def test_fast_one_minute_short_of_twelve_hours_earns_nothing_and_says_why(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=11 + 59 / 60)

    closed = ok(await close_window(client, user, fast["id"], end_state="completed"))

    assert closed["state"] == "completed"
    assert closed["elapsed_seconds"] == 11 * HOUR + 59 * 60
    assert closed["xp_earned"] == 0
    assert closed["credited"] is False
    assert "12" in closed["credit_reason"]
    assert closed["achievements_unlocked"] == []
    assert closed["level_up"] is False
    assert ok(await client.get(LEVEL, headers=user.headers))["total_xp_earned"] == 0


async def test_fast_closed_after_one_second_earns_nothing(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="OMAD")
    clock.advance(seconds=1)

    closed = ok(await close_window(client, user, fast["id"], end_state="completed"))

    assert closed["xp_earned"] == 0
    assert closed["credited"] is False
    assert closed["goal_met"] is False


async def test_pauses_do_not_count_toward_the_xp_band(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=10)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))
    await later(app, clock, user, hours=2)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/resume", headers=user.headers))
    await later(app, clock, user, hours=5)

    closed = ok(await close_window(client, user, fast["id"], end_state="completed"))

    assert closed["elapsed_seconds"] == 15 * HOUR
    assert closed["paused_duration"] == 2 * HOUR
    assert base_xp(closed) == 25


async def test_pause_that_drops_a_fast_under_twelve_hours_earns_nothing(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=11)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))
    await later(app, clock, user, hours=2)

    closed = ok(await close_window(client, user, fast["id"], end_state="completed"))

    assert closed["elapsed_seconds"] == 11 * HOUR
    assert closed["xp_earned"] == 0
    assert closed["credited"] is False


async def test_abandoned_long_fast_earns_nothing(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=30)

    closed = ok(await close_window(client, user, fast["id"], end_state="abandoned"))

    assert closed["xp_earned"] == 0
    assert closed["credited"] is False
    assert closed["streak"] is None
    assert ok(await client.get(LEVEL, headers=user.headers))["total_xp_earned"] == 0


async def test_first_credited_fast_reports_its_achievements_and_their_xp(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=24)

    closed = ok(await close_window(client, user, fast["id"], end_state="completed"))

    names = {a["name"] for a in closed["achievements_unlocked"]}
    assert {"First Fast", "Marathon Faster"} <= names
    assert all(a["xp_reward"] > 0 for a in closed["achievements_unlocked"])
    assert closed["xp_earned"] == 150 + sum(a["xp_reward"] for a in closed["achievements_unlocked"])
    assert closed["level_up"] is True
    assert closed["new_level"] == ok(await client.get(LEVEL, headers=user.headers))["current_level"]


async def test_a_second_fast_the_next_day_extends_the_streak(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    start = clock.now() - timedelta(days=1, hours=16)
    ok(
        await client.post(
            WINDOWS,
            headers=user.headers,
            json={
                "window_type": "fast",
                "start_time": start.isoformat(),
                "end_time": (start + timedelta(hours=16)).isoformat(),
            },
        ),
        201,
    )
    fast = await open_fast_started(client, user, clock, hours_ago=16)

    closed = ok(await close_window(client, user, fast["id"], end_state="completed"))

    assert closed["credited"] is True
    assert closed["streak"]["current_count"] == 2
    assert closed["streak"]["extended"] is True
