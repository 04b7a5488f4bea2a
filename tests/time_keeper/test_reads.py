"""Reading windows: the running one, history with its filters, one window, and its elapsed and
remaining time — each only for its owner."""

from __future__ import annotations

import uuid
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
    assert_problem,
    close_window,
    iso,
    ok,
    open_window,
)


async def test_active_is_json_null_with_200_when_nothing_runs(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    for params in ({}, {"window_type": "fast"}, {"window_type": "eating"}):
        response = await client.get(ACTIVE, headers=user.headers, params=params)
        assert response.status_code == 200
        assert response.content.strip() == b"null"


async def test_active_with_a_fast_and_a_workout_open_returns_the_fast(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    workout = await open_window(client, user, window_type="workout")
    fast = await open_window(client, user, protocol="18:6")

    assert ok(await client.get(ACTIVE, headers=user.headers))["id"] == fast["id"]
    assert ok(await client.get(ACTIVE, headers=user.headers, params={"window_type": "fast"}))["id"] == fast["id"]
    assert ok(await client.get(ACTIVE, headers=user.headers, params={"window_type": "workout"}))["id"] == workout["id"]
    assert ok(await client.get(ACTIVE, headers=user.headers, params={"window_type": "recovery"})) is None


async def test_active_without_a_fast_returns_the_other_open_window(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    recovery = await open_window(client, user, window_type="recovery")

    assert ok(await client.get(ACTIVE, headers=user.headers))["id"] == recovery["id"]


async def test_active_with_an_unknown_window_type_is_422(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    response = await client.get(ACTIVE, headers=user.headers, params={"window_type": "nap"})

    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_active_ignores_the_identity_id_query_the_app_appends(app: FastAPI, client: httpx.AsyncClient) -> None:
    me = await anonymous_user(app)
    other = await anonymous_user(app)
    theirs = await open_window(client, other)

    response = await client.get(ACTIVE, headers=me.headers, params={"identity_id": other.id, "window_type": "fast"})

    assert ok(response) is None
    assert ok(await client.get(ACTIVE, headers=other.headers, params={"identity_id": other.id}))["id"] == theirs["id"]


async def _history(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> tuple[User, list[dict[str, object]]]:
    """Windows started a day apart: a logged fast (5 days ago), a workout (4), a logged fast (3), a fast
    abandoned now (2), and a fast running since now."""
    user = await anonymous_user(app)
    day = [clock.now() - timedelta(days=n) for n in range(6)]
    made: list[dict[str, object]] = [
        await open_window(client, user, start_time=iso(day[5]), end_time=iso(day[5] + timedelta(hours=16))),
        await open_window(client, user, window_type="workout", start_time=iso(day[4])),
    ]
    ok(await close_window(client, user, str(made[1]["id"]), end_state="completed"))
    made.append(await open_window(client, user, start_time=iso(day[3]), end_time=iso(day[3] + timedelta(hours=14))))
    made.append(await open_window(client, user, start_time=iso(day[2])))
    ok(await close_window(client, user, str(made[3]["id"]), end_state="abandoned"))
    made.append(await open_window(client, user, protocol="16:8"))
    return user, made


async def test_history_lists_newest_first(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user, made = await _history(app, client, clock)

    listed = ok(await client.get(WINDOWS, headers=user.headers))

    assert [w["id"] for w in listed] == [w["id"] for w in reversed(made)]


async def test_history_filters_by_window_type_and_state(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user, made = await _history(app, client, clock)

    workouts = ok(await client.get(WINDOWS, headers=user.headers, params={"window_type": "workout"}))
    completed_fasts = ok(
        await client.get(WINDOWS, headers=user.headers, params={"window_type": "fast", "state": "completed"})
    )
    abandoned = ok(await client.get(WINDOWS, headers=user.headers, params={"state": "abandoned"}))
    running = ok(await client.get(WINDOWS, headers=user.headers, params={"state": "active"}))

    assert [w["id"] for w in workouts] == [made[1]["id"]]
    assert [w["id"] for w in completed_fasts] == [made[2]["id"], made[0]["id"]]
    assert [w["id"] for w in abandoned] == [made[3]["id"]]
    assert [w["id"] for w in running] == [made[4]["id"]]


async def test_history_filters_by_start_time_range(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user, made = await _history(app, client, clock)
    days_ago_4 = clock.now() - timedelta(days=4)
    days_ago_2 = clock.now() - timedelta(days=2)

    since = ok(await client.get(WINDOWS, headers=user.headers, params={"start_time": iso(days_ago_4)}))
    until = ok(await client.get(WINDOWS, headers=user.headers, params={"end_time": iso(days_ago_4)}))
    between = ok(
        await client.get(
            WINDOWS, headers=user.headers, params={"start_time": iso(days_ago_4), "end_time": iso(days_ago_2)}
        )
    )

    assert [w["id"] for w in since] == [w["id"] for w in reversed(made[1:])]
    assert [w["id"] for w in until] == [made[0]["id"]]
    assert [w["id"] for w in between] == [made[2]["id"], made[1]["id"]]


async def test_history_with_end_time_before_start_time_is_422(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)

    response = await client.get(
        WINDOWS,
        headers=user.headers,
        params={"start_time": iso(clock.now()), "end_time": iso(clock.now() - timedelta(days=1))},
    )

    assert_problem(response, 422)


async def test_history_pages_with_limit_and_offset(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    user, made = await _history(app, client, clock)
    newest_first = [w["id"] for w in reversed(made)]

    first = ok(await client.get(WINDOWS, headers=user.headers, params={"limit": 2}))
    second = ok(await client.get(WINDOWS, headers=user.headers, params={"limit": 2, "offset": 2}))
    past_the_end = ok(await client.get(WINDOWS, headers=user.headers, params={"limit": 2, "offset": 10}))

    assert [w["id"] for w in first] == newest_first[:2]
    assert [w["id"] for w in second] == newest_first[2:4]
    assert past_the_end == []


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "ten"}, {"state": "done"}])
async def test_history_with_bad_paging_or_filters_is_422(
    app: FastAPI, client: httpx.AsyncClient, params: dict[str, str | int]
) -> None:
    user = await anonymous_user(app)

    response = await client.get(WINDOWS, headers=user.headers, params=params)

    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_history_holds_only_the_callers_windows(app: FastAPI, client: httpx.AsyncClient) -> None:
    me = await anonymous_user(app)
    other = await anonymous_user(app)
    await open_window(client, other)

    assert ok(await client.get(WINDOWS, headers=me.headers, params={"identity_id": other.id})) == []


async def test_someone_elses_window_is_404_on_every_route(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    owner = await anonymous_user(app)
    stranger = await anonymous_user(app)
    fast = await open_window(client, owner)
    url = f"{WINDOWS}/{fast['id']}"

    responses = [
        await client.get(url, headers=stranger.headers),
        await client.get(f"{url}/elapsed", headers=stranger.headers),
        await client.get(f"{url}/remaining", headers=stranger.headers),
        await client.post(f"{url}/pause", headers=stranger.headers),
        await client.post(f"{url}/resume", headers=stranger.headers),
        await client.post(f"{url}/close", headers=stranger.headers, json={"end_state": "abandoned"}),
        await client.post(
            f"{url}/extend", headers=stranger.headers, json={"new_end": iso(clock.now() + timedelta(hours=30))}
        ),
        await client.patch(url, headers=stranger.headers, json={"start_time": iso(clock.now() - timedelta(hours=1))}),
    ]

    for response in responses:
        assert_problem(response, 404, "WINDOW_NOT_FOUND")
    untouched = ok(await client.get(url, headers=owner.headers))
    assert untouched["state"] == "active"
    assert untouched["start_time"] == fast["start_time"]
    assert untouched["scheduled_end"] == fast["scheduled_end"]


@pytest.mark.parametrize("suffix", ["", "/elapsed", "/remaining"])
async def test_window_reads_need_a_token(app: FastAPI, client: httpx.AsyncClient, suffix: str) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user)

    response = await client.get(f"{WINDOWS}/{fast['id']}{suffix}")

    assert_problem(response, 401, "UNAUTHORIZED")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", ""),
        ("GET", "/active"),
        ("POST", ""),
        ("POST", "/{id}/close"),
        ("POST", "/{id}/pause"),
        ("PATCH", "/{id}"),
    ],
)
async def test_every_time_keeper_route_needs_a_token(
    app: FastAPI, client: httpx.AsyncClient, method: str, path: str
) -> None:
    url = WINDOWS + path.replace("{id}", str(uuid.uuid4()))

    response = await client.request(method, url, json={"window_type": "fast"} if method == "POST" else None)

    assert_problem(response, 401, "UNAUTHORIZED")


async def test_elapsed_and_remaining_of_my_running_fast(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="20:4", start_time=iso(clock.now() - timedelta(hours=5)))

    elapsed = ok(await client.get(f"{WINDOWS}/{fast['id']}/elapsed", headers=user.headers))
    remaining = ok(await client.get(f"{WINDOWS}/{fast['id']}/remaining", headers=user.headers))

    assert elapsed == {"elapsed_seconds": 5 * HOUR}
    assert remaining == {"remaining_seconds": 15 * HOUR}


async def test_remaining_is_null_for_a_window_without_a_plan(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    workout = await open_window(client, user, window_type="workout")

    assert ok(await client.get(f"{WINDOWS}/{workout['id']}/remaining", headers=user.headers)) == {
        "remaining_seconds": None
    }


async def test_one_window_reads_back_as_it_was_created(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="OMAD", metadata={"note": "before the trip"})

    stored = ok(await client.get(f"{WINDOWS}/{fast['id']}", headers=user.headers))

    assert stored == fast
    for field in ("start_time", "scheduled_end", "created_at", "updated_at"):
        assert stored[field].endswith(("Z", "+00:00")), stored[field]
