"""Races a real phone causes (double taps, retries on a flaky network): each request runs on its
own connection and commits for real, as in production."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.exc import IntegrityError

from src.core.clock import FrozenClock
from src.modules.time_keeper.orm import TimeWindowRow
from tests.conftest import client_for
from tests.factories import User, anonymous_user, fresh_ip
from tests.time_keeper.helpers import ACTIVE, LEVEL, WINDOWS, assert_problem, iso, ok, open_fast_started, parse


async def _post_at_once(
    app: FastAPI, user: User, url: str, bodies: Sequence[dict[str, Any] | None]
) -> list[httpx.Response]:
    clients = [client_for(app, fresh_ip()) for _ in bodies]
    try:
        return list(
            await asyncio.gather(
                *(c.post(url, headers=user.headers, json=body) for c, body in zip(clients, bodies, strict=True))
            )
        )
    finally:
        for c in clients:
            await c.aclose()


async def test_ten_parallel_opens_make_one_fast_and_nine_409(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    responses = await _post_at_once(app, user, WINDOWS, [{"window_type": "fast", "protocol": "16:8"}] * 10)

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 1, 409: 9}, [r.text for r in responses]
    for refused in (r for r in responses if r.status_code == 409):
        assert_problem(refused, 409, "WINDOW_ALREADY_ACTIVE")
    winner = next(r for r in responses if r.status_code == 201).json()
    active = ok(await client.get(ACTIVE, headers=user.headers, params={"window_type": "fast"}))
    assert active["id"] == winner["id"]
    history = ok(await client.get(WINDOWS, headers=user.headers, params={"window_type": "fast"}))
    assert [w["id"] for w in history] == [winner["id"]]


async def test_parallel_opens_of_different_types_each_get_their_window(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    bodies: list[dict[str, Any]] = [{"window_type": "workout"}] * 3 + [{"window_type": "recovery"}] * 3

    responses = await _post_at_once(app, user, WINDOWS, bodies)

    assert sorted(r.status_code for r in responses) == [201, 201, 409, 409, 409, 409], [r.text for r in responses]
    created = {r.json()["window_type"] for r in responses if r.status_code == 201}
    assert created == {"workout", "recovery"}
    assert (
        ok(await client.get(ACTIVE, headers=user.headers, params={"window_type": "workout"}))["window_type"]
        == "workout"
    )


async def test_five_parallel_closes_complete_once_and_credit_xp_once(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=16.5)

    responses = await _post_at_once(app, user, f"{WINDOWS}/{fast['id']}/close", [{"end_state": "completed"}] * 5)

    statuses = Counter(r.status_code for r in responses)
    assert statuses == {200: 1, 409: 4}, [r.text for r in responses]
    for refused in (r for r in responses if r.status_code == 409):
        assert_problem(refused, 409, "WINDOW_NOT_ACTIVE")
    closed = next(r for r in responses if r.status_code == 200).json()
    assert closed["credited"] is True
    assert closed["xp_earned"] > 0
    level = ok(await client.get(LEVEL, headers=user.headers))
    assert level["total_xp_earned"] == closed["xp_earned"]


async def test_parallel_complete_and_abandon_leave_one_outcome(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=13)

    responses = await _post_at_once(
        app, user, f"{WINDOWS}/{fast['id']}/close", [{"end_state": "completed"}, {"end_state": "abandoned"}] * 2
    )

    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409], [r.text for r in responses]
    winner = next(r for r in responses if r.status_code == 200).json()
    stored = ok(await client.get(f"{WINDOWS}/{fast['id']}", headers=user.headers))
    assert stored["state"] == winner["state"]
    level = ok(await client.get(LEVEL, headers=user.headers))
    assert level["total_xp_earned"] == winner["xp_earned"]


async def test_parallel_pauses_pause_once(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=2)

    responses = await _post_at_once(app, user, f"{WINDOWS}/{fast['id']}/pause", [None] * 4)

    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409], [r.text for r in responses]
    stored = ok(await client.get(f"{WINDOWS}/{fast['id']}", headers=user.headers))
    assert stored["state"] == "paused"


async def test_parallel_fast_and_eating_opens_never_leave_both_running(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    bodies: list[dict[str, Any]] = [{"window_type": "eating"}, {"window_type": "fast"}] * 3

    responses = await _post_at_once(app, user, WINDOWS, bodies)

    assert all(r.status_code in (201, 409) for r in responses), [r.text for r in responses]
    assert sum(1 for r in responses if r.status_code == 201 and r.json()["window_type"] == "fast") == 1
    assert ok(await client.get(ACTIVE, headers=user.headers, params={"window_type": "fast"})) is not None
    assert ok(await client.get(ACTIVE, headers=user.headers, params={"window_type": "eating"})) is None


async def test_two_overlapping_past_fasts_logged_at_once_keep_one_and_credit_once(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    start = clock.now() - timedelta(days=1)
    bodies: list[dict[str, Any]] = [
        {"window_type": "fast", "start_time": iso(start), "end_time": iso(start + timedelta(hours=16))},
        {
            "window_type": "fast",
            "start_time": iso(start + timedelta(hours=2)),
            "end_time": iso(start + timedelta(hours=20)),
        },
    ]

    responses = await _post_at_once(app, user, WINDOWS, bodies)

    assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
    assert_problem(next(r for r in responses if r.status_code == 409), 409, "OVERLAPPING_FAST")
    logged = next(r for r in responses if r.status_code == 201).json()
    assert [w["id"] for w in ok(await client.get(WINDOWS, headers=user.headers))] == [logged["id"]]
    assert ok(await client.get(LEVEL, headers=user.headers))["total_xp_earned"] == logged["xp_earned"]


def _row_like(window: dict[str, Any], state: str, clock: FrozenClock) -> TimeWindowRow:
    now = clock.now()
    return TimeWindowRow(
        id=uuid.uuid4(),
        identity_id=uuid.UUID(window["identity_id"]),
        window_type=window["window_type"],
        state=state,
        start_time=now,
        paused_seconds=0,
        window_metadata={},
        created_at=now,
        updated_at=now,
    )


@pytest.mark.parametrize("state", ["active", "paused"])
async def test_the_database_itself_refuses_a_second_open_window_of_a_type(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, state: str
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=1)

    async with app.state.sessions.writer() as session:
        session.add(_row_like(fast, state, clock))
        with pytest.raises(IntegrityError):
            await session.flush()
        await session.rollback()

    history = ok(await client.get(WINDOWS, headers=user.headers))
    assert [w["id"] for w in history] == [fast["id"]]


async def test_the_database_keeps_any_number_of_closed_windows_beside_an_open_one(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=1)

    async with app.state.sessions.writer() as session:
        session.add_all([_row_like(fast, "completed", clock), _row_like(fast, "abandoned", clock)])
        await session.commit()

    assert len(ok(await client.get(WINDOWS, headers=user.headers))) == 3


async def test_completing_with_an_eating_window_while_the_start_is_corrected_never_deadlocks(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    # Closing locks the fast and then opens an eating window; a correction locks the person's
    # windows and then the fast. Fired together they must serialise, never deadlock (503).
    for _ in range(3):
        user = await anonymous_user(app)
        fast = await open_fast_started(client, user, clock, hours_ago=16.5)
        real_start = clock.now() - timedelta(hours=18)
        closer, corrector = client_for(app, fresh_ip()), client_for(app, fresh_ip())
        try:
            closed_response, corrected_response = await asyncio.gather(
                closer.post(
                    f"{WINDOWS}/{fast['id']}/close",
                    headers=user.headers,
                    json={"end_state": "completed", "open_eating_window": True},
                ),
                corrector.patch(f"{WINDOWS}/{fast['id']}", headers=user.headers, json={"start_time": iso(real_start)}),
            )
        finally:
            await closer.aclose()
            await corrector.aclose()

        closed = ok(closed_response)
        if corrected_response.status_code == 409:  # the close came first
            assert_problem(corrected_response, 409, "WINDOW_NOT_ACTIVE")
            expected_start, fasted_hours = parse(fast["start_time"]), 16.5
        else:  # the correction came first and the close counted from the real start
            assert ok(corrected_response)["start_time"] == closed["start_time"]
            expected_start, fasted_hours = real_start, 18.0
        stored = ok(await client.get(f"{WINDOWS}/{fast['id']}", headers=user.headers))
        assert stored["state"] == "completed"
        assert parse(stored["start_time"]) == expected_start
        assert stored["elapsed_seconds"] == closed["elapsed_seconds"] == int(fasted_hours * 3600)
        eating = ok(await client.get(ACTIVE, headers=user.headers, params={"window_type": "eating"}))
        assert eating["id"] == closed["eating_window"]["id"]
        assert eating["start_time"] == stored["end_time"]
        assert ok(await client.get(LEVEL, headers=user.headers))["total_xp_earned"] == closed["xp_earned"]
