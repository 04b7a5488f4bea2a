"""Pause arithmetic: time spent paused never counts as fasting, and the plan moves with it."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import anonymous_user
from tests.time_keeper.helpers import HOUR, WINDOWS, close_window, get_window, later, ok, open_window, parse


async def test_elapsed_time_stands_still_while_paused(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="16:8")
    await later(app, clock, user, hours=2)
    paused = ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))
    assert paused["elapsed_seconds"] == 2 * HOUR

    await later(app, clock, user, hours=1)
    during = await get_window(client, user, fast["id"])

    assert during["state"] == "paused"
    assert during["elapsed_seconds"] == 2 * HOUR
    assert during["paused_duration"] == HOUR
    assert during["remaining_seconds"] == 14 * HOUR
    assert during["progress_percent"] == 12.5
    assert during["goal_met"] is False
    elapsed = ok(await client.get(f"{WINDOWS}/{fast['id']}/elapsed", headers=user.headers))
    assert elapsed == {"elapsed_seconds": 2 * HOUR}
    remaining = ok(await client.get(f"{WINDOWS}/{fast['id']}/remaining", headers=user.headers))
    assert remaining == {"remaining_seconds": 14 * HOUR}


async def test_resume_moves_the_scheduled_end_later_by_the_pause(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="16:8")
    start = parse(fast["start_time"])
    await later(app, clock, user, hours=2)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))
    await later(app, clock, user, minutes=90)

    resumed = ok(await client.post(f"{WINDOWS}/{fast['id']}/resume", headers=user.headers))

    assert parse(resumed["scheduled_end"]) == start + timedelta(hours=17, minutes=30)
    assert resumed["target_seconds"] == 16 * HOUR
    assert resumed["paused_duration"] == 90 * 60
    assert resumed["elapsed_seconds"] == 2 * HOUR
    assert resumed["remaining_seconds"] == 14 * HOUR
    assert resumed["remaining_seconds"] == (parse(resumed["scheduled_end"]) - clock.now()).total_seconds()


async def test_elapsed_after_resume_counts_only_unpaused_time(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="16:8")
    await later(app, clock, user, hours=1)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))
    await later(app, clock, user, hours=1)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/resume", headers=user.headers))
    await later(app, clock, user, hours=3)

    now = await get_window(client, user, fast["id"])

    assert now["elapsed_seconds"] == 4 * HOUR
    assert now["paused_duration"] == HOUR
    assert now["progress_percent"] == 25.0
    assert now["remaining_seconds"] == 12 * HOUR
    assert now["stage"]["name"] == "catabolic"


async def test_two_pauses_add_up(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="18:6")
    start = parse(fast["start_time"])
    for pause_minutes in (20, 40):
        await later(app, clock, user, hours=1)
        ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))
        await later(app, clock, user, minutes=pause_minutes)
        ok(await client.post(f"{WINDOWS}/{fast['id']}/resume", headers=user.headers))

    now = await get_window(client, user, fast["id"])

    assert now["paused_duration"] == HOUR
    assert now["elapsed_seconds"] == 2 * HOUR
    assert parse(now["scheduled_end"]) == start + timedelta(hours=19)


async def test_goal_is_met_only_once_the_unpaused_time_reaches_the_target(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    # 12 h: the least a fast needs for its goal to count.
    fast = await open_window(
        client, user, protocol="custom", custom_hours=12, start_time=(clock.now() - timedelta(hours=10)).isoformat()
    )
    await later(app, clock, user, hours=1)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))
    await later(app, clock, user, hours=1)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/resume", headers=user.headers))
    await later(app, clock, user, minutes=59)

    two_hours_minus_a_minute = await get_window(client, user, fast["id"])
    assert two_hours_minus_a_minute["goal_met"] is False
    assert two_hours_minus_a_minute["remaining_seconds"] == 60
    assert two_hours_minus_a_minute["progress_percent"] == 99.9

    clock.advance(minutes=1)
    reached = await get_window(client, user, fast["id"])
    assert reached["goal_met"] is True
    assert reached["remaining_seconds"] == 0
    assert reached["progress_percent"] == 100.0
    assert parse(reached["scheduled_end"]) == clock.now()

    clock.advance(minutes=30)
    beyond = await get_window(client, user, fast["id"])
    assert beyond["progress_percent"] == 100.0
    assert beyond["remaining_seconds"] == 0
    assert beyond["elapsed_seconds"] == 12 * HOUR + 30 * 60


async def test_closed_fast_reports_elapsed_without_any_pause(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="16:8")
    await later(app, clock, user, hours=3)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))
    await later(app, clock, user, hours=2)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/resume", headers=user.headers))
    await later(app, clock, user, hours=1)

    closed = ok(await close_window(client, user, fast["id"], end_state="completed"))
    await later(app, clock, user, hours=5)
    stored = await get_window(client, user, fast["id"])

    for body in (closed, stored):
        assert body["elapsed_seconds"] == 4 * HOUR
        assert body["paused_duration"] == 2 * HOUR
        assert body["remaining_seconds"] == 12 * HOUR
        assert body["progress_percent"] == 25.0
        assert body["goal_met"] is False
    assert ok(await client.get(f"{WINDOWS}/{fast['id']}/elapsed", headers=user.headers)) == {
        "elapsed_seconds": 4 * HOUR
    }


async def test_extend_during_a_paused_fast_keeps_pauses_out_of_the_target(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="16:8")
    start = parse(fast["start_time"])
    await later(app, clock, user, hours=1)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))
    await later(app, clock, user, hours=1)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/resume", headers=user.headers))

    extended = ok(
        await client.post(
            f"{WINDOWS}/{fast['id']}/extend",
            headers=user.headers,
            json={"new_end": (start + timedelta(hours=21)).isoformat()},
        )
    )

    assert extended["target_seconds"] == 20 * HOUR
    assert extended["remaining_seconds"] == 19 * HOUR
    assert extended["remaining_seconds"] == (parse(extended["scheduled_end"]) - clock.now()).total_seconds()
