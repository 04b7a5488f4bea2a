"""Numbers a person can trust about a fast: what starting, pausing and closing it says and earns,
which protocol it follows, and that logged fasts cannot be stacked to farm XP."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import anonymous_user
from tests.time_keeper.helpers import (
    HOUR,
    LEVEL,
    ONBOARDING,
    WINDOWS,
    assert_problem,
    close_window,
    get_window,
    iso,
    later,
    ok,
    open_fast_started,
    open_window,
    parse,
)

PREFERENCES = "/api/v1/profile/preferences"
SHORT = "Fasts under 12 h earn no XP or streak credit"


# A short fast says so -------------------------------------------------------------------------


async def test_starting_a_fast_under_twelve_hours_warns_that_it_earns_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    short = await open_window(client, user, protocol="custom", custom_hours=8)
    assert short["warnings"] == [SHORT]
    ok(await close_window(client, user, short["id"], end_state="abandoned"))
    normal = await open_window(client, user, protocol="16:8")
    assert normal["warnings"] == []


async def test_a_client_plan_shorter_than_twelve_hours_warns_too(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="16:8", scheduled_end=iso(clock.now() + timedelta(hours=6)))
    assert fast["warnings"] == [SHORT]


async def test_a_short_fast_that_reached_its_plan_is_not_goal_met_and_says_why_it_earned_nothing(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="custom", custom_hours=4)
    await later(app, clock, user, hours=5)
    assert (await get_window(client, user, fast["id"]))["goal_met"] is False

    closed = ok(await close_window(client, user, fast["id"], end_state="completed"))

    assert closed["goal_met"] is False
    assert closed["credited"] is False
    assert closed["xp_earned"] == 0
    assert "12 hours" in closed["credit_reason"]
    # Onboarding's "first fast" is a fast that counts.
    assert ok(await client.get(ONBOARDING, headers=user.headers))["first_fast_completed"] is False


# The person's protocol ------------------------------------------------------------------------


async def test_a_fast_without_a_protocol_follows_the_person_default(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(PREFERENCES, headers=user.headers, json={"default_fasting_protocol": "20:4"}))

    fast = await open_window(client, user)

    assert fast["protocol"] == "20:4"
    assert fast["target_seconds"] == 20 * HOUR
    assert parse(fast["scheduled_end"]) - parse(fast["start_time"]) == timedelta(hours=20)


async def test_without_a_default_a_fast_is_sixteen_eight(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user)
    assert (fast["protocol"], fast["target_seconds"]) == ("16:8", 16 * HOUR)


# Pauses are bounded ---------------------------------------------------------------------------


async def test_the_planned_end_moves_while_paused(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="16:8")
    planned = parse(fast["scheduled_end"])
    await later(app, clock, user, hours=1)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))
    await later(app, clock, user, minutes=45)

    during = await get_window(client, user, fast["id"])

    assert during["state"] == "paused"
    assert parse(during["scheduled_end"]) == planned + timedelta(minutes=45)


async def test_a_pause_past_the_limit_ends_by_itself_and_resuming_then_is_409(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="16:8")
    planned = parse(fast["scheduled_end"])
    await later(app, clock, user, hours=1)
    paused = ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))
    await later(app, clock, user, hours=5)  # the pause ended by itself after 2 h; 3 h fasted since

    view = await get_window(client, user, fast["id"])
    assert view["state"] == "active"
    assert view["paused_at"] is None
    assert view["paused_duration"] == 2 * HOUR
    assert view["elapsed_seconds"] == 4 * HOUR
    assert [parse(p["ended_at"]) for p in view["pauses"]] == [parse(paused["paused_at"]) + timedelta(hours=2)]
    assert parse(view["scheduled_end"]) == planned + timedelta(hours=2)

    resumed = await client.post(f"{WINDOWS}/{fast['id']}/resume", headers=user.headers)
    body = assert_problem(resumed, 409, "WINDOW_NOT_PAUSED")
    assert body["max_pause_minutes"] == 120
    after = await get_window(client, user, fast["id"])
    assert (after["state"], after["elapsed_seconds"], after["paused_duration"]) == ("active", 4 * HOUR, 2 * HOUR)


async def test_a_fast_may_be_paused_three_times(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="16:8")
    for _ in range(3):
        await later(app, clock, user, minutes=10)
        ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))
        await later(app, clock, user, minutes=10)
        ok(await client.post(f"{WINDOWS}/{fast['id']}/resume", headers=user.headers))

    fourth = await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers)

    assert assert_problem(fourth, 409, "TOO_MANY_PAUSES")["max_pauses"] == 3
    assert (await get_window(client, user, fast["id"]))["state"] == "active"


async def test_a_fast_closed_at_once_is_abandoned_not_completed(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user)

    closed = ok(await close_window(client, user, fast["id"], end_state="completed"))

    assert closed["state"] == "abandoned"
    assert closed["credited"] is False
    assert "abandoned" in closed["credit_reason"]
    assert (await get_window(client, user, fast["id"]))["state"] == "abandoned"


# Logged fasts cannot be farmed ----------------------------------------------------------------


async def test_back_to_back_logged_fasts_are_refused_so_a_week_cannot_be_farmed(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    start = clock.now() - timedelta(days=7) + timedelta(minutes=5)
    accepted = refused = 0
    for i in range(13):  # thirteen 12 h fasts with no time between them
        begin = start + timedelta(hours=12 * i)
        response = await client.post(
            WINDOWS,
            headers=user.headers,
            json={"window_type": "fast", "start_time": iso(begin), "end_time": iso(begin + timedelta(hours=12))},
        )
        if response.status_code == 201:
            accepted += 1
        else:
            assert_problem(response, 409, "FASTS_TOO_CLOSE")
            refused += 1
    # Every other one fits (an eating window of 12 h lies between them).
    assert (accepted, refused) == (7, 6)
    total = ok(await client.get(LEVEL, headers=user.headers))["total_xp_earned"]
    assert total < 725


async def test_a_back_dated_start_right_after_a_logged_fast_is_too_close(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    end = clock.now() - timedelta(hours=3)
    await open_window(client, user, start_time=iso(end - timedelta(hours=16)), end_time=iso(end))

    response = await client.post(
        WINDOWS, headers=user.headers, json={"window_type": "fast", "start_time": iso(end + timedelta(minutes=30))}
    )
    assert_problem(response, 409, "FASTS_TOO_CLOSE")
    live = await open_fast_started(client, user, clock, hours_ago=1.5)  # 90 minutes after: fine
    assert live["state"] == "active"
