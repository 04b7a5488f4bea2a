"""No input a client can send makes the timer answer 500: malformed ids are 422, unknown ids 404,
wrong types and oversized or out-of-range values 422, and nothing is saved."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

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
    get_window,
    ok,
    open_window,
    parse,
)

WINDOW_ROUTES = [
    ("GET", ""),
    ("GET", "/elapsed"),
    ("GET", "/remaining"),
    ("PATCH", ""),
    ("POST", "/close"),
    ("POST", "/extend"),
    ("POST", "/pause"),
    ("POST", "/resume"),
]


def _valid_body(method: str, suffix: str, clock: FrozenClock) -> dict[str, Any] | None:
    if method == "PATCH":
        return {"start_time": (clock.now() - timedelta(hours=1)).isoformat()}
    if suffix == "/extend":
        return {"new_end": (clock.now() + timedelta(hours=30)).isoformat()}
    if suffix == "/close":
        return {"end_state": "completed"}
    return None


@pytest.mark.parametrize(("method", "suffix"), WINDOW_ROUTES)
@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g", "%20"])
async def test_malformed_window_id_is_422(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, method: str, suffix: str, bad_id: str
) -> None:
    user = await anonymous_user(app)

    response = await client.request(
        method, f"{WINDOWS}/{bad_id}{suffix}", headers=user.headers, json=_valid_body(method, suffix, clock)
    )

    assert_problem(response, 422, "VALIDATION_ERROR")


@pytest.mark.parametrize(("method", "suffix"), WINDOW_ROUTES)
async def test_unknown_window_id_is_404(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, method: str, suffix: str
) -> None:
    user = await anonymous_user(app)

    response = await client.request(
        method, f"{WINDOWS}/{uuid.uuid4()}{suffix}", headers=user.headers, json=_valid_body(method, suffix, clock)
    )

    assert_problem(response, 404, "WINDOW_NOT_FOUND")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"window_type": "nap"},
        {"window_type": None},
        {"window_type": ["fast"]},
        {"window_type": "fast", "protocol": {"name": "16:8"}},
        {"window_type": "fast", "custom_hours": "many", "protocol": "custom"},
        {"window_type": "fast", "custom_hours": 12.5, "protocol": "custom"},
        {"window_type": "fast", "scheduled_end": "tomorrow"},
        {"window_type": "fast", "scheduled_end": 1773100000},
        {"window_type": "fast", "start_time": "2026-13-40T25:00:00Z"},
        {"window_type": "fast", "start_time": "0001-01-01T00:00:00+01:00"},
        {"window_type": "fast", "start_time": "9999-12-31T23:59:59-01:00"},
        {"window_type": "fast", "scheduled_end": "9999-12-31T23:59:59Z"},
        {"window_type": "fast", "end_time": "0001-01-01T00:00:00Z", "start_time": "0001-01-01T00:00:00Z"},
        {"window_type": "fast", "metadata": "protocol=16:8"},
        {"window_type": "fast", "metadata": ["16:8"]},
        {"window_type": "fast", "metadata": {"protocol": ["16:8"]}},
        {"window_type": "fast", "metadata": {"protocol": None, "target_hours": 16}, "protocol": "bogus"},
        {"window_type": "eating", "metadata": {"target_hours": "a lot"}, "scheduled_end": "soon"},
    ],
)
async def test_malformed_open_requests_are_422_and_open_nothing(
    app: FastAPI, client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    user = await anonymous_user(app)

    response = await client.post(WINDOWS, headers=user.headers, json=body)

    assert_problem(response, 422)
    assert ok(await client.get(WINDOWS, headers=user.headers)) == []


@pytest.mark.parametrize("raw", [b"", b"null", b"[]", b'"fast"', b"{not json", b"\xff\xfe"])
async def test_open_with_a_body_that_is_not_an_object_is_422(
    app: FastAPI, client: httpx.AsyncClient, raw: bytes
) -> None:
    user = await anonymous_user(app)

    response = await client.post(WINDOWS, headers={**user.headers, "Content-Type": "application/json"}, content=raw)

    assert_problem(response, 422)


@pytest.mark.parametrize("raw", [b"[]", b'"completed"', b"{not json", b'{"end_state": "completed", "metadata": 5}'])
async def test_close_with_a_malformed_body_is_422_and_leaves_the_fast_running(
    app: FastAPI, client: httpx.AsyncClient, raw: bytes
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user)

    response = await client.post(
        f"{WINDOWS}/{fast['id']}/close", headers={**user.headers, "Content-Type": "application/json"}, content=raw
    )

    assert_problem(response, 422)
    assert (await get_window(client, user, fast["id"]))["state"] == "active"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"new_end": None},
        {"new_end": "later"},
        {"new_end": "0001-01-01T00:00:00+05:00"},
        {"new_end": "9999-12-31T23:59:59Z"},
    ],
)
async def test_extend_with_a_bad_new_end_is_422(app: FastAPI, client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user)

    response = await client.post(f"{WINDOWS}/{fast['id']}/extend", headers=user.headers, json=body)

    assert_problem(response, 422)
    assert (await get_window(client, user, fast["id"]))["scheduled_end"] == fast["scheduled_end"]


@pytest.mark.parametrize(
    "body", [{}, {"start_time": None}, {"start_time": "yesterday"}, {"start_time": "0001-01-01T00:00:00Z"}]
)
async def test_correct_start_with_a_bad_start_time_is_422(
    app: FastAPI, client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user)

    response = await client.patch(f"{WINDOWS}/{fast['id']}", headers=user.headers, json=body)

    assert_problem(response, 422)
    assert (await get_window(client, user, fast["id"]))["start_time"] == fast["start_time"]


async def test_metadata_over_four_kilobytes_is_422(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    response = await client.post(
        WINDOWS, headers=user.headers, json={"window_type": "fast", "metadata": {"note": "x" * 5000}}
    )

    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert any("metadata" in error["loc"] for error in body["errors"])
    assert ok(await client.get(ACTIVE, headers=user.headers)) is None


async def test_metadata_just_under_four_kilobytes_is_kept(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    note = "x" * 4000

    fast = await open_window(client, user, metadata={"note": note})

    assert (await get_window(client, user, fast["id"]))["metadata"] == {"note": note}


async def test_close_metadata_over_four_kilobytes_is_422(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user)

    response = await client.post(
        f"{WINDOWS}/{fast['id']}/close",
        headers=user.headers,
        json={"end_state": "abandoned", "metadata": {"reason": "y" * 5000}},
    )

    assert_problem(response, 422, "VALIDATION_ERROR")
    assert (await get_window(client, user, fast["id"]))["state"] == "active"


async def test_close_metadata_is_merged_into_the_window(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, metadata={"protocol": "16:8", "target_hours": 16})

    closed = ok(
        await client.post(
            f"{WINDOWS}/{fast['id']}/close",
            headers=user.headers,
            json={"end_state": "abandoned", "metadata": {"reason": "felt dizzy"}},
        )
    )

    assert closed["metadata"] == {"protocol": "16:8", "target_hours": 16, "reason": "felt dizzy"}


def _nested(levels: int) -> bytes:
    return b'{"n":' * (levels - 1) + b"{}" + b"}" * (levels - 1)


@pytest.mark.parametrize(
    "metadata",
    [
        _nested(17),
        _nested(300),
        b'{"list": [' + b"[" * 40 + b"]" * 40 + b"]}",
        b'{"x": NaN}',
        b'{"target_hours": Infinity}',
        b'{"x": [1, -Infinity]}',
        b'{"note": "a\\u0000b"}',
        b'{"\\ud800": 1}',
        b'{"a": [{"b": "\\udfff"}]}',
    ],
    ids=[
        "17_levels",
        "300_levels",
        "deep_lists",
        "nan",
        "infinity",
        "minus_infinity_in_list",
        "nul_character",
        "lone_surrogate_key",
        "lone_surrogate_value",
    ],
)
@pytest.mark.parametrize("window_type", ["fast", "eating", "workout"])
async def test_metadata_that_cannot_be_stored_faithfully_is_422_and_opens_nothing(
    app: FastAPI, client: httpx.AsyncClient, metadata: bytes, window_type: str
) -> None:
    user = await anonymous_user(app)
    raw = b'{"window_type": "' + window_type.encode() + b'", "metadata": ' + metadata + b"}"

    response = await client.post(WINDOWS, headers={**user.headers, "Content-Type": "application/json"}, content=raw)

    assert_problem(response, 422, "VALIDATION_ERROR")
    assert ok(await client.get(ACTIVE, headers=user.headers)) is None


async def test_close_metadata_with_nan_is_422_and_leaves_the_fast_running(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user)

    response = await client.post(
        f"{WINDOWS}/{fast['id']}/close",
        headers={**user.headers, "Content-Type": "application/json"},
        content=b'{"end_state": "completed", "metadata": {"mood": NaN}}',
    )

    assert_problem(response, 422, "VALIDATION_ERROR")
    assert (await get_window(client, user, fast["id"]))["state"] == "active"


async def test_metadata_sixteen_levels_deep_with_unicode_is_kept(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    metadata: dict[str, Any] = {"note": "Fastenzeit 🍵 — café"}
    for _ in range(15):
        metadata = {"n": metadata}

    fast = await open_window(client, user, metadata=metadata)

    assert (await get_window(client, user, fast["id"]))["metadata"] == metadata
    assert ok(await client.get(ACTIVE, headers=user.headers))["metadata"] == metadata


async def test_naive_datetimes_are_taken_as_utc(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user = await anonymous_user(app)
    start = clock.now() - timedelta(hours=2)
    naive = start.replace(tzinfo=None).isoformat()
    naive_end = (clock.now() + timedelta(hours=14)).replace(tzinfo=None).isoformat()

    fast = await open_window(client, user, start_time=naive, scheduled_end=naive_end)

    assert parse(fast["start_time"]) == start
    assert fast["start_time"].endswith(("Z", "+00:00"))
    assert fast["target_seconds"] == 16 * HOUR
    assert fast["elapsed_seconds"] == 2 * HOUR


async def test_start_time_with_an_offset_is_the_same_instant_in_utc(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    # 08:00 UTC written as 10:00 at +02:00
    fast = await open_window(client, user, start_time="2026-03-10T10:00:00+02:00")

    assert parse(fast["start_time"]) == clock.now() - timedelta(hours=4)
    assert fast["elapsed_seconds"] == 4 * HOUR


async def test_history_with_naive_or_out_of_range_bounds_never_500s(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await open_window(client, user)

    naive = await client.get(WINDOWS, headers=user.headers, params={"start_time": "2026-03-10T00:00:00"})
    tiny = await client.get(WINDOWS, headers=user.headers, params={"start_time": "0001-01-01T00:00:00+01:00"})
    garbage = await client.get(WINDOWS, headers=user.headers, params={"end_time": "soon"})

    assert len(ok(naive)) == 1
    assert_problem(tiny, 422)
    assert_problem(garbage, 422)


async def test_identity_id_in_the_body_is_ignored(app: FastAPI, client: httpx.AsyncClient) -> None:
    me = await anonymous_user(app)
    other = await anonymous_user(app)

    fast = await open_window(client, me, identity_id=other.id)

    assert fast["identity_id"] == me.id
    assert ok(await client.get(ACTIVE, headers=other.headers)) is None
