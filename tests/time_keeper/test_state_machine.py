"""The window state machine: active ⇄ paused → completed | abandoned, and every transition it
refuses (with the window left as it was)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import anonymous_user
from tests.time_keeper.helpers import (
    ACTIVE,
    HOUR,
    LEVEL,
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


async def test_fast_goes_active_paused_active_completed(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="16:8")
    assert fast["state"] == "active"
    assert fast["paused_at"] is None
    assert fast["end_time"] is None

    paused = ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))
    assert paused["state"] == "paused"
    assert parse(paused["paused_at"]) == clock.now()

    await later(app, clock, user, minutes=30)
    resumed = ok(await client.post(f"{WINDOWS}/{fast['id']}/resume", headers=user.headers))
    assert resumed["state"] == "active"
    assert resumed["paused_at"] is None
    assert resumed["paused_duration"] == 30 * 60

    await later(app, clock, user, hours=1)
    closed = ok(await close_window(client, user, fast["id"], end_state="completed"))
    assert closed["state"] == "completed"
    assert parse(closed["end_time"]) == clock.now()
    assert closed["elapsed_seconds"] == HOUR
    assert closed["paused_duration"] == 30 * 60
    assert ok(await client.get(ACTIVE, headers=user.headers)) is None


async def test_close_without_a_body_completes_the_window(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=1)

    response = await client.post(f"{WINDOWS}/{fast['id']}/close", headers=user.headers)

    assert ok(response)["state"] == "completed"


async def test_closing_twice_answers_409_window_not_active(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=1)
    first = ok(await close_window(client, user, fast["id"], end_state="completed"))

    second = await close_window(client, user, fast["id"], end_state="completed")

    body = assert_problem(second, 409, "WINDOW_NOT_ACTIVE")
    assert body["state"] == "completed"
    assert (await get_window(client, user, fast["id"]))["end_time"] == first["end_time"]


async def test_abandoning_then_completing_is_refused_and_the_fast_stays_abandoned(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user)
    ok(await close_window(client, user, fast["id"], end_state="abandoned"))

    response = await close_window(client, user, fast["id"], end_state="completed")

    assert_problem(response, 409, "WINDOW_NOT_ACTIVE")
    assert (await get_window(client, user, fast["id"]))["state"] == "abandoned"


async def test_abandoned_fast_earns_nothing_and_says_why(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=20)

    closed = ok(await close_window(client, user, fast["id"], end_state="abandoned"))

    assert closed["state"] == "abandoned"
    assert closed["elapsed_seconds"] == 20 * HOUR
    assert closed["xp_earned"] == 0
    assert closed["credited"] is False
    assert closed["credit_reason"]
    assert closed["level_up"] is False
    assert closed["achievements_unlocked"] == []


async def test_pausing_a_paused_fast_answers_409(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))

    response = await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers)

    assert_problem(response, 409, "WINDOW_NOT_ACTIVE")
    assert (await get_window(client, user, fast["id"]))["state"] == "paused"


async def test_resuming_an_active_fast_answers_409_window_not_paused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user)

    response = await client.post(f"{WINDOWS}/{fast['id']}/resume", headers=user.headers)

    assert_problem(response, 409, "WINDOW_NOT_PAUSED")
    assert (await get_window(client, user, fast["id"]))["state"] == "active"


async def test_pausing_an_eating_window_answers_422(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    eating = await open_window(client, user, window_type="eating")

    response = await client.post(f"{WINDOWS}/{eating['id']}/pause", headers=user.headers)

    assert_problem(response, 422, "UNSUPPORTED_FOR_WINDOW_TYPE")
    assert (await get_window(client, user, eating["id"]))["state"] == "active"


@pytest.mark.parametrize("action", ["pause", "resume", "extend", "close"])
@pytest.mark.parametrize("end_state", ["completed", "abandoned"])
async def test_every_change_to_a_closed_fast_answers_409(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, action: str, end_state: str
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=1)
    closed = ok(await close_window(client, user, fast["id"], end_state=end_state))
    body = {"new_end": iso(clock.now() + timedelta(hours=5))} if action == "extend" else None

    response = await client.post(f"{WINDOWS}/{fast['id']}/{action}", headers=user.headers, json=body)

    assert response.status_code == 409, response.text
    assert response.json()["code"] in {"WINDOW_NOT_ACTIVE", "WINDOW_NOT_PAUSED"}
    after = await get_window(client, user, fast["id"])
    assert after["state"] == end_state
    assert after["scheduled_end"] == closed["scheduled_end"]


@pytest.mark.parametrize("end_state", ["active", "scheduled", "paused", "foo", "", None, 1])
async def test_close_with_an_end_state_other_than_completed_or_abandoned_is_refused(
    app: FastAPI, client: httpx.AsyncClient, end_state: object
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user)

    response = await client.post(f"{WINDOWS}/{fast['id']}/close", headers=user.headers, json={"end_state": end_state})

    assert_problem(response, 422, "VALIDATION_ERROR")
    after = await get_window(client, user, fast["id"])
    assert after["state"] == "active"
    assert after["end_time"] is None


async def test_closing_a_paused_fast_completes_it_without_the_pause(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=14)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))
    await later(app, clock, user, hours=2)

    closed = ok(await close_window(client, user, fast["id"], end_state="completed"))

    assert closed["state"] == "completed"
    assert closed["paused_at"] is None
    assert closed["paused_duration"] == 2 * HOUR
    assert closed["elapsed_seconds"] == 14 * HOUR
    assert parse(closed["end_time"]) == clock.now()
    assert (await get_window(client, user, fast["id"]))["elapsed_seconds"] == 14 * HOUR


async def test_a_new_fast_can_start_once_the_last_one_is_closed(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    first = await open_window(client, user)
    assert_problem(
        await client.post(WINDOWS, headers=user.headers, json={"window_type": "fast"}), 409, "WINDOW_ALREADY_ACTIVE"
    )
    ok(await close_window(client, user, first["id"], end_state="abandoned"))

    second = await open_window(client, user)

    assert second["id"] != first["id"]
    assert ok(await client.get(ACTIVE, headers=user.headers))["id"] == second["id"]


async def test_a_paused_fast_still_blocks_a_second_fast(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))

    response = await client.post(WINDOWS, headers=user.headers, json={"window_type": "fast"})

    assert_problem(response, 409, "WINDOW_ALREADY_ACTIVE")
    assert ok(await client.get(ACTIVE, headers=user.headers))["id"] == fast["id"]


async def test_extend_moves_the_planned_end_and_the_target(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=2, protocol="16:8")
    new_end = parse(fast["start_time"]) + timedelta(hours=20)

    extended = ok(
        await client.post(f"{WINDOWS}/{fast['id']}/extend", headers=user.headers, json={"new_end": iso(new_end)})
    )

    assert parse(extended["scheduled_end"]) == new_end
    assert extended["target_seconds"] == 20 * HOUR
    assert extended["remaining_seconds"] == 18 * HOUR
    assert extended["state"] == "active"


@pytest.mark.parametrize(
    "new_end_from_now",
    [timedelta(hours=-1), timedelta(0), timedelta(days=8)],
    ids=["in_the_past", "now", "over_seven_days_after_start"],
)
async def test_extend_to_the_past_or_beyond_seven_days_is_refused(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, new_end_from_now: timedelta
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user)

    response = await client.post(
        f"{WINDOWS}/{fast['id']}/extend", headers=user.headers, json={"new_end": iso(clock.now() + new_end_from_now)}
    )

    assert_problem(response, 422, "INVALID_WINDOW_TIME")
    after = await get_window(client, user, fast["id"])
    assert after["scheduled_end"] == fast["scheduled_end"]
    assert after["target_seconds"] == fast["target_seconds"]


async def test_closing_a_workout_window_earns_nothing(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    workout = await open_window(client, user, window_type="workout")
    clock.advance(minutes=40)

    closed = ok(await close_window(client, user, workout["id"], end_state="completed"))

    assert closed["state"] == "completed"
    assert closed["elapsed_seconds"] == 40 * 60
    assert closed["xp_earned"] == 0
    assert closed["credited"] is False
    assert closed["credit_reason"]
    assert ok(await client.get(LEVEL, headers=user.headers))["total_xp_earned"] == 0
