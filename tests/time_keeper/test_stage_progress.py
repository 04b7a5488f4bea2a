"""The fasting stage shown by the timer, the stage that comes next and when it starts."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import User, anonymous_user
from tests.time_keeper.helpers import (
    ACTIVE,
    HOUR,
    WINDOWS,
    close_window,
    get_window,
    later,
    ok,
    open_window,
    parse,
)

BOUNDARIES = [
    (4 * HOUR - 1, "anabolic", 0, "catabolic", 1),
    (4 * HOUR, "catabolic", 4, "fat_burning", 12 * HOUR),
    (16 * HOUR - 1, "catabolic", 4, "fat_burning", 1),
    (16 * HOUR, "fat_burning", 16, "ketosis", 8 * HOUR),
    (24 * HOUR - 1, "fat_burning", 16, "ketosis", 1),
    (24 * HOUR, "ketosis", 24, "deep_ketosis", 48 * HOUR),
    (72 * HOUR - 1, "ketosis", 24, "deep_ketosis", 1),
]


@pytest.mark.parametrize(("elapsed", "stage", "stage_start_hours", "upcoming", "starts_in"), BOUNDARIES)
async def test_stage_and_next_stage_on_each_side_of_a_boundary(
    app: FastAPI,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    elapsed: int,
    stage: str,
    stage_start_hours: int,
    upcoming: str,
    starts_in: int,
) -> None:
    user = await anonymous_user(app)
    start = clock.now() - timedelta(seconds=elapsed)
    await open_window(client, user, start_time=start.isoformat())

    fast = ok(await client.get(ACTIVE, headers=user.headers, params={"window_type": "fast"}))

    assert fast["elapsed_seconds"] == elapsed
    assert fast["stage"]["name"] == stage
    assert fast["stage"]["starts_at_hours"] == stage_start_hours
    assert parse(fast["stage"]["started_at"]) == start + timedelta(hours=stage_start_hours)
    assert fast["stage"]["label"]
    assert fast["stage"]["description"]
    assert fast["next_stage"]["name"] == upcoming
    assert fast["next_stage"]["starts_in_seconds"] == starts_in
    assert parse(fast["next_stage"]["starts_at"]) == clock.now() + timedelta(seconds=starts_in)


async def test_deep_ketosis_from_seventy_two_hours_has_no_next_stage(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    start = clock.now() - timedelta(hours=72)
    await open_window(client, user, start_time=start.isoformat(), protocol="custom", custom_hours=72)

    fast = ok(await client.get(ACTIVE, headers=user.headers))

    assert fast["stage"]["name"] == "deep_ketosis"
    assert fast["stage"]["ends_at_hours"] is None
    assert parse(fast["stage"]["started_at"]) == clock.now()
    assert fast["next_stage"] is None
    assert fast["goal_met"] is True


async def test_a_new_fast_is_anabolic_with_catabolic_four_hours_away(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)

    fast = await open_window(client, user)

    assert fast["stage"]["name"] == "anabolic"
    assert fast["stage"]["ends_at_hours"] == 4
    assert fast["next_stage"]["name"] == "catabolic"
    assert fast["next_stage"]["starts_in_seconds"] == 4 * HOUR
    assert parse(fast["next_stage"]["starts_at"]) == clock.now() + timedelta(hours=4)


async def test_stage_advances_as_the_fast_runs(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user = await anonymous_user(app)
    await open_window(client, user)
    await later(app, clock, user, hours=5)

    fast = ok(await client.get(ACTIVE, headers=user.headers))

    assert fast["stage"]["name"] == "catabolic"
    assert fast["next_stage"]["starts_in_seconds"] == 11 * HOUR


async def test_paused_fast_keeps_its_stage_and_next_stage_has_no_start_time(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, start_time=(clock.now() - timedelta(hours=15)).isoformat())
    ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))
    await later(app, clock, user, hours=2)  # the longest a pause lasts

    paused = ok(await client.get(ACTIVE, headers=user.headers))

    assert paused["stage"]["name"] == "catabolic"
    assert paused["next_stage"]["name"] == "fat_burning"
    assert paused["next_stage"]["starts_in_seconds"] == HOUR
    assert paused["next_stage"]["starts_at"] is None


async def test_closed_fast_shows_the_stage_it_reached_and_nothing_next(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    start = clock.now() - timedelta(hours=25)
    fast = await open_window(client, user, start_time=start.isoformat())

    closed = ok(await close_window(client, user, fast["id"], end_state="completed"))

    assert closed["stage"]["name"] == "ketosis"
    assert parse(closed["stage"]["started_at"]) == start + timedelta(hours=24)
    assert closed["next_stage"] is None


@pytest.mark.parametrize("window_type", ["eating", "workout", "recovery"])
async def test_windows_other_than_fasts_have_no_stage(
    app: FastAPI, client: httpx.AsyncClient, window_type: str
) -> None:
    user = await anonymous_user(app)

    window = await open_window(client, user, window_type=window_type)

    assert window["stage"] is None
    assert window["next_stage"] is None


async def _pause(client: httpx.AsyncClient, user: User, window_id: str) -> None:
    ok(await client.post(f"{WINDOWS}/{window_id}/pause", headers=user.headers))


async def _resume(client: httpx.AsyncClient, user: User, window_id: str) -> None:
    ok(await client.post(f"{WINDOWS}/{window_id}/resume", headers=user.headers))


async def test_stage_start_ignores_a_pause_taken_after_the_stage_began(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="16:8")
    start = parse(fast["start_time"])
    await later(app, clock, user, hours=5)
    await _pause(client, user, fast["id"])
    await later(app, clock, user, hours=2)
    await _resume(client, user, fast["id"])
    await later(app, clock, user, hours=3)

    running = ok(await client.get(ACTIVE, headers=user.headers))

    assert running["elapsed_seconds"] == 8 * HOUR
    assert running["stage"]["name"] == "catabolic"
    assert parse(running["stage"]["started_at"]) == start + timedelta(hours=4)
    assert running["next_stage"]["name"] == "fat_burning"
    assert running["next_stage"]["starts_in_seconds"] == 8 * HOUR
    assert parse(running["next_stage"]["starts_at"]) == clock.now() + timedelta(hours=8)
    assert [(parse(p["started_at"]), parse(p["ended_at"])) for p in running["pauses"]] == [
        (start + timedelta(hours=5), start + timedelta(hours=7))
    ]


async def test_stage_start_after_a_pause_is_moved_by_the_pause(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="16:8")
    start = parse(fast["start_time"])
    await later(app, clock, user, hours=2)
    await _pause(client, user, fast["id"])
    await later(app, clock, user, hours=1)
    await _resume(client, user, fast["id"])
    await later(app, clock, user, hours=4)

    running = ok(await client.get(ACTIVE, headers=user.headers))

    assert running["elapsed_seconds"] == 6 * HOUR
    assert parse(running["stage"]["started_at"]) == start + timedelta(hours=5)


async def test_paused_fast_shows_when_its_stage_began(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="16:8")
    start = parse(fast["start_time"])
    await later(app, clock, user, hours=6)
    await _pause(client, user, fast["id"])
    await later(app, clock, user, hours=2)

    paused = ok(await client.get(ACTIVE, headers=user.headers))

    assert paused["stage"]["name"] == "catabolic"
    assert parse(paused["stage"]["started_at"]) == start + timedelta(hours=4)
    assert paused["next_stage"]["starts_at"] is None
    assert paused["next_stage"]["starts_in_seconds"] == 10 * HOUR


@pytest.mark.parametrize("close_while_paused", [False, True])
async def test_closed_fast_dates_its_stage_by_the_real_pauses(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, close_while_paused: bool
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="16:8")
    start = parse(fast["start_time"])
    await later(app, clock, user, hours=17)
    await _pause(client, user, fast["id"])
    await later(app, clock, user, hours=2)
    if not close_while_paused:
        await _resume(client, user, fast["id"])
        await later(app, clock, user, hours=1)

    closed = ok(await close_window(client, user, fast["id"], end_state="completed"))
    await later(app, clock, user, hours=3)
    stored = await get_window(client, user, fast["id"])

    for body in (closed, stored):
        assert body["elapsed_seconds"] == (17 if close_while_paused else 18) * HOUR
        assert body["stage"]["name"] == "fat_burning"
        assert parse(body["stage"]["started_at"]) == start + timedelta(hours=16)
        assert body["next_stage"] is None
        assert [(parse(p["started_at"]), parse(p["ended_at"])) for p in body["pauses"]] == [
            (start + timedelta(hours=17), start + timedelta(hours=19))
        ]
