"""Opening a fast: the server decides how long it lasts from the protocol (sent at the top level or
inside `metadata`, as the mobile app does), and validates any planned end the client sends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import anonymous_user
from tests.time_keeper.helpers import HOUR, WINDOWS, assert_problem, iso, open_window, parse

NAMED = [("16:8", 16), ("18:6", 18), ("20:4", 20), ("OMAD", 23), ("24h", 24), ("36h", 36)]


def _assert_plan(window: dict[str, Any], clock: FrozenClock, protocol: str, hours: int) -> None:
    assert window["window_type"] == "fast"
    assert window["state"] == "active"
    assert window["protocol"] == protocol
    assert window["target_seconds"] == hours * HOUR
    assert parse(window["start_time"]) == clock.now()
    assert parse(window["scheduled_end"]) == clock.now() + timedelta(hours=hours)
    assert window["remaining_seconds"] == hours * HOUR
    assert window["elapsed_seconds"] == 0
    assert window["progress_percent"] == 0
    assert window["goal_met"] is False


@pytest.mark.parametrize(("protocol", "hours"), NAMED)
async def test_top_level_protocol_sets_the_target_and_scheduled_end(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, protocol: str, hours: int
) -> None:
    user = await anonymous_user(app)

    window = await open_window(client, user, protocol=protocol)

    _assert_plan(window, clock, protocol, hours)


@pytest.mark.parametrize(("protocol", "hours"), NAMED)
async def test_protocol_in_metadata_sets_the_target_like_the_mobile_app_sends_it(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, protocol: str, hours: int
) -> None:
    user = await anonymous_user(app)

    window = await open_window(client, user, metadata={"protocol": protocol, "target_hours": hours})

    _assert_plan(window, clock, protocol, hours)
    assert window["metadata"] == {"protocol": protocol, "target_hours": hours}


async def test_mobile_app_body_with_its_own_scheduled_end_opens_a_sixteen_hour_fast(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    planned = clock.now() + timedelta(hours=16)

    window = await open_window(
        client,
        user,
        scheduled_end=iso(planned).replace("+00:00", "Z"),
        metadata={"protocol": "16:8", "target_hours": 16},
    )

    _assert_plan(window, clock, "16:8", 16)


async def test_fast_without_any_protocol_defaults_to_sixteen_eight(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)

    window = await open_window(client, user)

    _assert_plan(window, clock, "16:8", 16)


async def test_metadata_target_hours_cannot_shorten_a_named_protocol(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)

    window = await open_window(client, user, metadata={"protocol": "18:6", "target_hours": 1})

    _assert_plan(window, clock, "18:6", 18)


@pytest.mark.parametrize(
    ("spelling", "protocol", "hours"),
    [
        ("omad", "OMAD", 23),
        ("23:1", "OMAD", 23),
        ("24:0", "24h", 24),
        ("24", "24h", 24),
        ("36", "36h", 36),
        (" 18:6 ", "18:6", 18),
    ],
)
@pytest.mark.parametrize("where", ["top_level", "metadata"])
async def test_older_protocol_spellings_are_understood_wherever_they_are_sent(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, spelling: str, protocol: str, hours: int, where: str
) -> None:
    user = await anonymous_user(app)
    body: dict[str, Any] = {"protocol": spelling} if where == "top_level" else {"metadata": {"protocol": spelling}}

    window = await open_window(client, user, **body)

    _assert_plan(window, clock, protocol, hours)


@pytest.mark.parametrize("hours", [1, 20, 72])
async def test_custom_fast_lasts_custom_hours(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, hours: int
) -> None:
    user = await anonymous_user(app)

    window = await open_window(client, user, protocol="custom", custom_hours=hours)

    _assert_plan(window, clock, "custom", hours)


async def test_custom_hours_without_a_protocol_is_a_custom_fast(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)

    window = await open_window(client, user, custom_hours=20)

    _assert_plan(window, clock, "custom", 20)


@pytest.mark.parametrize("hours", [0, 73, -5])
async def test_custom_hours_outside_one_to_seventy_two_are_refused(
    app: FastAPI, client: httpx.AsyncClient, hours: int
) -> None:
    user = await anonymous_user(app)

    response = await client.post(
        WINDOWS, headers=user.headers, json={"window_type": "fast", "protocol": "custom", "custom_hours": hours}
    )

    assert_problem(response, 422, "VALIDATION_ERROR")
    assert (await client.get(WINDOWS, headers=user.headers)).json() == []


async def test_custom_fast_takes_its_length_from_metadata_target_hours(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)

    window = await open_window(client, user, metadata={"protocol": "custom", "target_hours": 30})

    _assert_plan(window, clock, "custom", 30)


@pytest.mark.parametrize("target_hours", [0, 73, "twenty", True, None])
async def test_custom_fast_with_unusable_metadata_target_hours_is_refused(
    app: FastAPI, client: httpx.AsyncClient, target_hours: object
) -> None:
    user = await anonymous_user(app)

    response = await client.post(
        WINDOWS,
        headers=user.headers,
        json={"window_type": "fast", "metadata": {"protocol": "custom", "target_hours": target_hours}},
    )

    assert_problem(response, 422, "INVALID_WINDOW_TIME")


async def test_custom_fast_without_any_length_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    response = await client.post(WINDOWS, headers=user.headers, json={"window_type": "fast", "protocol": "custom"})

    assert_problem(response, 422)


@pytest.mark.parametrize("where", ["top_level", "metadata"])
@pytest.mark.parametrize("protocol", ["15:9", "5:2", "", 16])
async def test_unknown_protocol_is_refused_with_422(
    app: FastAPI, client: httpx.AsyncClient, where: str, protocol: object
) -> None:
    user = await anonymous_user(app)
    body: dict[str, Any] = {"window_type": "fast"}
    if where == "top_level":
        body["protocol"] = protocol
    else:
        body["metadata"] = {"protocol": protocol}

    response = await client.post(WINDOWS, headers=user.headers, json=body)

    assert_problem(response, 422)
    assert (await client.get(WINDOWS, headers=user.headers)).json() == []


async def test_explicit_scheduled_end_is_the_plan(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user = await anonymous_user(app)
    planned = clock.now() + timedelta(hours=20, minutes=30)

    window = await open_window(client, user, protocol="16:8", scheduled_end=iso(planned))

    assert parse(window["scheduled_end"]) == planned
    assert window["target_seconds"] == 20 * HOUR + 30 * 60
    assert window["remaining_seconds"] == 20 * HOUR + 30 * 60
    assert window["protocol"] == "16:8"


async def test_scheduled_end_seven_days_ahead_is_accepted(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)

    window = await open_window(client, user, scheduled_end=iso(clock.now() + timedelta(days=7)))

    assert window["target_seconds"] == 7 * 24 * HOUR


@pytest.mark.parametrize(
    "offset",
    [timedelta(hours=-1), timedelta(0), timedelta(days=7, seconds=1), timedelta(days=30)],
    ids=["before_start", "at_start", "just_over_seven_days", "a_month"],
)
async def test_scheduled_end_not_after_start_or_over_seven_days_ahead_is_refused(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, offset: timedelta
) -> None:
    user = await anonymous_user(app)

    response = await client.post(
        WINDOWS, headers=user.headers, json={"window_type": "fast", "scheduled_end": iso(clock.now() + offset)}
    )

    assert_problem(response, 422, "INVALID_WINDOW_TIME")
    assert (await client.get(WINDOWS, headers=user.headers)).json() == []


async def test_scheduled_end_is_measured_from_a_back_dated_start(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    start = clock.now() - timedelta(hours=3)

    window = await open_window(client, user, start_time=iso(start), scheduled_end=iso(start + timedelta(hours=18)))

    assert window["target_seconds"] == 18 * HOUR
    assert window["elapsed_seconds"] == 3 * HOUR
    assert window["remaining_seconds"] == 15 * HOUR


@pytest.mark.parametrize("field", [{"protocol": "16:8"}, {"custom_hours": 5}])
async def test_fasting_protocol_on_a_workout_window_is_refused(
    app: FastAPI, client: httpx.AsyncClient, field: dict[str, Any]
) -> None:
    user = await anonymous_user(app)

    response = await client.post(WINDOWS, headers=user.headers, json={"window_type": "workout", **field})

    assert_problem(response, 422, "UNSUPPORTED_FOR_WINDOW_TYPE")


async def test_workout_window_has_no_target_unless_planned(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)

    window = await open_window(client, user, window_type="workout")

    assert window["window_type"] == "workout"
    assert window["target_seconds"] is None
    assert window["scheduled_end"] is None
    assert window["remaining_seconds"] is None
    assert window["progress_percent"] is None
    assert window["stage"] is None
