"""Fasts begun offline or forgotten: a start up to 7 days back, a finished past fast logged and
credited, a running fast's start corrected — never in the future and never overlapping."""

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
    base_xp,
    close_window,
    get_window,
    iso,
    later,
    ok,
    open_fast_started,
    open_window,
    parse,
)


async def test_fast_started_ten_hours_ago_is_running_with_ten_hours_elapsed(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    start = clock.now() - timedelta(hours=10)

    fast = await open_window(client, user, protocol="16:8", start_time=iso(start))

    assert fast["state"] == "active"
    assert parse(fast["start_time"]) == start
    assert fast["elapsed_seconds"] == 10 * HOUR
    assert fast["remaining_seconds"] == 6 * HOUR
    assert parse(fast["scheduled_end"]) == start + timedelta(hours=16)
    assert fast["stage"]["name"] == "catabolic"
    assert ok(await client.get(ACTIVE, headers=user.headers))["id"] == fast["id"]


async def test_past_fast_with_start_and_end_is_logged_completed_and_credited(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    yesterday_evening = clock.now() - timedelta(hours=16)  # 20:00 yesterday → 12:00 today

    logged = ok(
        await client.post(
            WINDOWS,
            headers=user.headers,
            json={
                "window_type": "fast",
                "protocol": "16:8",
                "start_time": iso(yesterday_evening),
                "end_time": iso(clock.now()),
            },
        ),
        201,
    )

    assert logged["state"] == "completed"
    assert parse(logged["start_time"]) == yesterday_evening
    assert parse(logged["end_time"]) == clock.now()
    assert logged["elapsed_seconds"] == 16 * HOUR
    assert logged["goal_met"] is True
    assert logged["credited"] is True
    assert base_xp(logged) == 50
    assert logged["streak"]["current_count"] == 1
    assert ok(await client.get(LEVEL, headers=user.headers))["total_xp_earned"] == logged["xp_earned"]
    assert ok(await client.get(ACTIVE, headers=user.headers)) is None


async def test_logged_past_fast_of_nineteen_hours_earns_the_eighteen_hour_band(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    start = clock.now() - timedelta(days=2)

    logged = await open_window(client, user, start_time=iso(start), end_time=iso(start + timedelta(hours=19)))

    assert logged["state"] == "completed"
    assert base_xp(logged) == 75


async def test_logging_a_past_fast_while_another_runs_is_allowed_when_they_do_not_overlap(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    running = await open_fast_started(client, user, clock, hours_ago=2)
    start = clock.now() - timedelta(days=1, hours=6)

    logged = await open_window(client, user, start_time=iso(start), end_time=iso(start + timedelta(hours=13)))

    assert logged["state"] == "completed"
    assert ok(await client.get(ACTIVE, headers=user.headers))["id"] == running["id"]


@pytest.mark.parametrize(
    ("start_offset", "end_offset"),
    [
        (timedelta(days=7, seconds=1), None),
        (timedelta(days=30), None),
        (timedelta(hours=-1), None),
        (timedelta(days=8), timedelta(days=7, hours=-10)),
        (timedelta(hours=10), timedelta(hours=11)),
        (timedelta(hours=10), timedelta(hours=10)),
        (timedelta(hours=10), timedelta(hours=-2)),
    ],
    ids=[
        "start_just_over_7_days_back",
        "start_a_month_back",
        "start_in_the_future",
        "logged_fast_over_7_days_back",
        "end_before_start",
        "end_equal_to_start",
        "end_in_the_future",
    ],
)
async def test_impossible_start_or_end_is_refused_with_422(
    app: FastAPI,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    start_offset: timedelta,
    end_offset: timedelta | None,
) -> None:
    user = await anonymous_user(app)
    body: dict[str, object] = {"window_type": "fast", "start_time": iso(clock.now() - start_offset)}
    if end_offset is not None:
        body["end_time"] = iso(clock.now() - end_offset)

    response = await client.post(WINDOWS, headers=user.headers, json=body)

    assert_problem(response, 422, "INVALID_WINDOW_TIME")
    assert ok(await client.get(WINDOWS, headers=user.headers)) == []
    assert ok(await client.get(LEVEL, headers=user.headers))["total_xp_earned"] == 0


async def test_start_exactly_seven_days_back_is_accepted(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)

    fast = await open_window(client, user, start_time=iso(clock.now() - timedelta(days=7)))

    assert fast["elapsed_seconds"] == 7 * 24 * HOUR


async def test_end_time_without_start_time_is_refused(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)

    response = await client.post(
        WINDOWS, headers=user.headers, json={"window_type": "fast", "end_time": iso(clock.now() - timedelta(hours=1))}
    )

    assert_problem(response, 422)


async def test_end_time_on_a_non_fast_window_is_refused(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)

    response = await client.post(
        WINDOWS,
        headers=user.headers,
        json={
            "window_type": "workout",
            "start_time": iso(clock.now() - timedelta(hours=2)),
            "end_time": iso(clock.now() - timedelta(hours=1)),
        },
    )

    assert_problem(response, 422, "UNSUPPORTED_FOR_WINDOW_TYPE")


async def test_logged_fast_overlapping_a_logged_fast_is_409(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    start = clock.now() - timedelta(days=2)
    first = await open_window(client, user, start_time=iso(start), end_time=iso(start + timedelta(hours=16)))

    response = await client.post(
        WINDOWS,
        headers=user.headers,
        json={
            "window_type": "fast",
            "start_time": iso(start + timedelta(hours=15)),
            "end_time": iso(start + timedelta(hours=30)),
        },
    )

    assert_problem(response, 409, "OVERLAPPING_FAST")
    assert [w["id"] for w in ok(await client.get(WINDOWS, headers=user.headers))] == [first["id"]]
    assert ok(await client.get(LEVEL, headers=user.headers))["total_xp_earned"] == first["xp_earned"]


async def test_logged_fast_touching_the_end_of_another_is_too_close_but_an_hour_later_is_fine(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    start = clock.now() - timedelta(days=2)
    await open_window(client, user, start_time=iso(start), end_time=iso(start + timedelta(hours=16)))

    touching = await client.post(
        WINDOWS,
        headers=user.headers,
        json={
            "window_type": "fast",
            "start_time": iso(start + timedelta(hours=16)),
            "end_time": iso(start + timedelta(hours=30)),
        },
    )
    assert assert_problem(touching, 409, "FASTS_TOO_CLOSE")["min_gap_minutes"] == 60
    second = await open_window(
        client, user, start_time=iso(start + timedelta(hours=17)), end_time=iso(start + timedelta(hours=30))
    )

    assert second["state"] == "completed"


async def test_logged_fast_overlapping_the_running_fast_is_409(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await open_fast_started(client, user, clock, hours_ago=5)

    response = await client.post(
        WINDOWS,
        headers=user.headers,
        json={
            "window_type": "fast",
            "start_time": iso(clock.now() - timedelta(hours=20)),
            "end_time": iso(clock.now() - timedelta(hours=4)),
        },
    )

    assert_problem(response, 409, "OVERLAPPING_FAST")


async def test_back_dated_fast_overlapping_a_finished_fast_is_409(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    start = clock.now() - timedelta(hours=20)
    await open_window(client, user, start_time=iso(start), end_time=iso(start + timedelta(hours=14)))

    response = await client.post(
        WINDOWS, headers=user.headers, json={"window_type": "fast", "start_time": iso(clock.now() - timedelta(hours=8))}
    )

    assert_problem(response, 409, "OVERLAPPING_FAST")
    assert ok(await client.get(ACTIVE, headers=user.headers)) is None


# Correcting the start of a running fast ---------------------------------------------------------


async def test_correcting_the_start_grows_elapsed_and_shifts_the_plan(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="18:6")
    real_start = clock.now() - timedelta(hours=3)

    corrected = ok(
        await client.patch(f"{WINDOWS}/{fast['id']}", headers=user.headers, json={"start_time": iso(real_start)})
    )

    assert parse(corrected["start_time"]) == real_start
    assert corrected["elapsed_seconds"] == 3 * HOUR
    assert parse(corrected["scheduled_end"]) == real_start + timedelta(hours=18)
    assert corrected["target_seconds"] == 18 * HOUR
    assert corrected["remaining_seconds"] == 15 * HOUR
    assert (await get_window(client, user, fast["id"]))["elapsed_seconds"] == 3 * HOUR


async def test_corrected_start_counts_toward_xp_when_closing(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user)
    ok(
        await client.patch(
            f"{WINDOWS}/{fast['id']}", headers=user.headers, json={"start_time": iso(clock.now() - timedelta(hours=21))}
        )
    )

    closed = ok(await close_window(client, user, fast["id"], end_state="completed"))

    assert closed["elapsed_seconds"] == 21 * HOUR
    assert base_xp(closed) == 100


@pytest.mark.parametrize(
    "offset",
    [timedelta(hours=-2), timedelta(days=7, minutes=1)],
    ids=["in_the_future", "over_seven_days_back"],
)
async def test_correcting_the_start_to_the_future_or_over_seven_days_back_is_422(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, offset: timedelta
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=1)

    response = await client.patch(
        f"{WINDOWS}/{fast['id']}", headers=user.headers, json={"start_time": iso(clock.now() - offset)}
    )

    assert_problem(response, 422, "INVALID_WINDOW_TIME")
    assert (await get_window(client, user, fast["id"]))["start_time"] == fast["start_time"]


async def test_correcting_the_start_into_a_previous_fast_is_409(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    earlier = clock.now() - timedelta(hours=30)
    await open_window(client, user, start_time=iso(earlier), end_time=iso(earlier + timedelta(hours=16)))
    fast = await open_fast_started(client, user, clock, hours_ago=2)

    response = await client.patch(
        f"{WINDOWS}/{fast['id']}", headers=user.headers, json={"start_time": iso(clock.now() - timedelta(hours=20))}
    )

    assert_problem(response, 409, "OVERLAPPING_FAST")
    assert (await get_window(client, user, fast["id"]))["start_time"] == fast["start_time"]


@pytest.mark.parametrize("end_state", ["completed", "abandoned"])
async def test_correcting_a_closed_fast_is_409(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, end_state: str
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=2)
    ok(await close_window(client, user, fast["id"], end_state=end_state))

    response = await client.patch(
        f"{WINDOWS}/{fast['id']}", headers=user.headers, json={"start_time": iso(clock.now() - timedelta(hours=14))}
    )

    assert_problem(response, 409, "WINDOW_NOT_ACTIVE")
    assert (await get_window(client, user, fast["id"]))["elapsed_seconds"] == 2 * HOUR


@pytest.mark.parametrize("window_type", ["eating", "workout", "recovery"])
async def test_correcting_the_start_of_a_non_fast_is_422(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, window_type: str
) -> None:
    user = await anonymous_user(app)
    window = await open_window(client, user, window_type=window_type)

    response = await client.patch(
        f"{WINDOWS}/{window['id']}", headers=user.headers, json={"start_time": iso(clock.now() - timedelta(hours=1))}
    )

    assert_problem(response, 422, "UNSUPPORTED_FOR_WINDOW_TYPE")


async def test_correcting_a_paused_fast_to_after_its_pause_began_is_422(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=4)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))
    clock.advance(minutes=30)

    response = await client.patch(
        f"{WINDOWS}/{fast['id']}", headers=user.headers, json={"start_time": iso(clock.now() - timedelta(minutes=10))}
    )

    assert_problem(response, 422, "INVALID_WINDOW_TIME")


async def test_correcting_the_start_to_after_an_earlier_pause_began_is_422_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=4)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))
    await later(app, clock, user, hours=1)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/resume", headers=user.headers))
    await later(app, clock, user, hours=1)
    before = await get_window(client, user, fast["id"])

    response = await client.patch(
        f"{WINDOWS}/{fast['id']}", headers=user.headers, json={"start_time": iso(clock.now() - timedelta(minutes=90))}
    )

    assert_problem(response, 422, "INVALID_WINDOW_TIME")
    after = await get_window(client, user, fast["id"])
    assert after["start_time"] == before["start_time"]
    assert after["elapsed_seconds"] == 5 * HOUR
