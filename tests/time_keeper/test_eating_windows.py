"""Eating windows around fasts: opened right after a completed fast when asked, refused during
a fast, ended by the next fast."""

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


@pytest.mark.parametrize(
    ("protocol_body", "eating_hours"),
    [
        ({"protocol": "16:8"}, 8),
        ({"protocol": "18:6"}, 6),
        ({"protocol": "20:4"}, 4),
        ({"protocol": "OMAD"}, 1),
        ({"protocol": "36h"}, 8),
        ({"protocol": "custom", "custom_hours": 14}, 10),
        ({"metadata": {"protocol": "18:6", "target_hours": 18}}, 6),
    ],
)
async def test_completing_with_open_eating_window_opens_one_of_the_protocols_eating_hours(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, protocol_body: dict[str, object], eating_hours: int
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=12, **protocol_body)

    closed = ok(await close_window(client, user, fast["id"], end_state="completed", open_eating_window=True))

    eating = closed["eating_window"]
    assert eating["window_type"] == "eating"
    assert eating["state"] == "active"
    assert parse(eating["start_time"]) == clock.now()
    assert parse(eating["scheduled_end"]) == clock.now() + timedelta(hours=eating_hours)
    assert eating["target_seconds"] == eating_hours * HOUR
    active = ok(await client.get(ACTIVE, headers=user.headers))
    assert active["id"] == eating["id"]


async def test_abandoning_with_open_eating_window_opens_none(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=3)

    closed = ok(await close_window(client, user, fast["id"], end_state="abandoned", open_eating_window=True))

    assert closed["eating_window"] is None
    assert ok(await client.get(ACTIVE, headers=user.headers)) is None


async def test_completing_without_asking_opens_no_eating_window(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=16)

    closed = ok(await close_window(client, user, fast["id"], end_state="completed"))

    assert closed["eating_window"] is None
    assert ok(await client.get(ACTIVE, headers=user.headers)) is None


@pytest.mark.parametrize("paused", [False, True])
async def test_opening_an_eating_window_during_a_fast_answers_409_fast_in_progress(
    app: FastAPI, client: httpx.AsyncClient, paused: bool
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user)
    if paused:
        ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))

    response = await client.post(WINDOWS, headers=user.headers, json={"window_type": "eating"})

    assert_problem(response, 409, "FAST_IN_PROGRESS")
    assert ok(await client.get(ACTIVE, headers=user.headers, params={"window_type": "eating"})) is None


async def test_starting_a_fast_ends_the_open_eating_window(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    eating = await open_window(client, user, window_type="eating")
    clock.advance(minutes=45)

    fast = await open_window(client, user, protocol="16:8")

    ended = await get_window(client, user, eating["id"])
    assert ended["state"] == "completed"
    assert parse(ended["end_time"]) == clock.now()
    assert ended["elapsed_seconds"] == 45 * 60
    assert ok(await client.get(ACTIVE, headers=user.headers, params={"window_type": "eating"})) is None
    assert ok(await client.get(ACTIVE, headers=user.headers))["id"] == fast["id"]


async def test_back_dated_fast_ends_the_open_eating_window_at_the_fasts_start(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    eating = await open_window(client, user, window_type="eating")
    eating_start = parse(eating["start_time"])
    await later(app, clock, user, hours=3)
    fast_start = eating_start + timedelta(hours=1)

    fast = await open_window(client, user, start_time=iso(fast_start))

    ended = await get_window(client, user, eating["id"])
    assert ended["state"] == "completed"
    assert parse(ended["end_time"]) == fast_start
    assert ended["elapsed_seconds"] == HOUR
    assert parse(fast["start_time"]) == fast_start
    assert fast["elapsed_seconds"] == 2 * HOUR


async def test_fast_back_dated_before_the_open_eating_window_began_is_409_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    eating = await open_window(client, user, window_type="eating")
    await later(app, clock, user, hours=2)

    response = await client.post(
        WINDOWS,
        headers=user.headers,
        json={"window_type": "fast", "start_time": iso(parse(eating["start_time"]) - timedelta(minutes=30))},
    )

    assert_problem(response, 409, "OVERLAPPING_EATING_WINDOW")
    still = ok(await client.get(ACTIVE, headers=user.headers))
    assert still["id"] == eating["id"]
    assert still["state"] == "active"
    assert still["end_time"] is None
    assert ok(await client.get(WINDOWS, headers=user.headers, params={"window_type": "fast"})) == []


async def test_eating_window_defaults_to_eight_hours_or_its_metadata_target(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    first = await anonymous_user(app)
    second = await anonymous_user(app)

    default = await open_window(client, first, window_type="eating")
    six = await open_window(client, second, window_type="eating", metadata={"target_hours": 6})

    assert default["target_seconds"] == 8 * HOUR
    assert parse(default["scheduled_end"]) == clock.now() + timedelta(hours=8)
    assert six["target_seconds"] == 6 * HOUR


async def test_second_eating_window_answers_409(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await open_window(client, user, window_type="eating")

    response = await client.post(WINDOWS, headers=user.headers, json={"window_type": "eating"})

    assert_problem(response, 409, "WINDOW_ALREADY_ACTIVE")


async def test_closing_an_eating_window_earns_nothing(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    eating = await open_window(client, user, window_type="eating")
    clock.advance(minutes=50)

    closed = ok(await close_window(client, user, eating["id"], end_state="completed"))

    assert closed["state"] == "completed"
    assert closed["elapsed_seconds"] == 50 * 60
    assert closed["xp_earned"] == 0
    assert closed["credited"] is False


async def test_a_past_fast_overlapping_an_eating_window_is_409_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    eating = await open_window(client, user, window_type="eating")
    await later(app, clock, user, hours=4)
    ok(await close_window(client, user, eating["id"]))
    eating_start = parse(eating["start_time"])
    await later(app, clock, user, hours=1)

    for start, end in (
        (eating_start - timedelta(hours=14), eating_start + timedelta(hours=1)),  # ends inside it
        (eating_start + timedelta(hours=1), eating_start + timedelta(hours=3)),  # inside it
    ):
        response = await client.post(
            WINDOWS, headers=user.headers, json={"window_type": "fast", "start_time": iso(start), "end_time": iso(end)}
        )
        assert_problem(response, 409, "OVERLAPPING_EATING_WINDOW")
    assert ok(await client.get(WINDOWS, headers=user.headers, params={"window_type": "fast"})) == []
    # Ending exactly when the eating window began is fine.
    logged = await open_window(
        client, user, start_time=iso(eating_start - timedelta(hours=13)), end_time=iso(eating_start)
    )
    assert logged["state"] == "completed"


async def test_a_past_fast_overlapping_the_open_eating_window_is_409(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    eating = await open_window(client, user, window_type="eating")
    await later(app, clock, user, hours=2)
    start = parse(eating["start_time"]) - timedelta(hours=12)
    response = await client.post(
        WINDOWS,
        headers=user.headers,
        json={"window_type": "fast", "start_time": iso(start), "end_time": iso(start + timedelta(hours=13))},
    )
    assert_problem(response, 409, "OVERLAPPING_EATING_WINDOW")
    assert ok(await client.get(ACTIVE, headers=user.headers))["id"] == eating["id"]


async def test_moving_a_fasts_start_back_into_an_earlier_eating_window_is_409(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    eating = await open_window(client, user, window_type="eating")
    await later(app, clock, user, hours=3)
    fast = await open_window(client, user)  # ends the eating window now
    await later(app, clock, user, hours=2)
    into_eating = parse(eating["start_time"]) + timedelta(hours=1)
    response = await client.patch(
        f"{WINDOWS}/{fast['id']}", headers=user.headers, json={"start_time": iso(into_eating)}
    )
    assert_problem(response, 409, "OVERLAPPING_EATING_WINDOW")
    assert parse((await get_window(client, user, fast["id"]))["start_time"]) == parse(fast["start_time"])
