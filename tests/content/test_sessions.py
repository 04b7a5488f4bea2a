"""Workout sessions: only their owner can see, complete or abandon them; a person has at most one
running workout, enforced by the database; completion happens once."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.content.helpers import (
    ACTIVE,
    HISTORY,
    SESSIONS,
    assert_problem,
    complete,
    count_rows,
    events_of,
    ledger,
    ok,
    start,
    total_xp,
    workout_named,
)
from tests.factories import anonymous_user, fresh_token


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", SESSIONS),
        ("GET", ACTIVE),
        ("GET", HISTORY),
        ("POST", f"{SESSIONS}/{uuid.UUID(int=1)}/complete"),
        ("POST", f"{SESSIONS}/{uuid.UUID(int=1)}/abandon"),
    ],
)
async def test_session_routes_need_a_signed_in_caller(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path, json={"workout_id": str(uuid.UUID(int=1))})
    assert_problem(response, 401)


async def test_completing_someone_elses_session_without_a_token_is_refused_and_changes_nothing(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    owner = await anonymous_user(app)
    quick = await workout_named(client, "Quick HIIT Blast")
    session = await start(client, owner, quick["id"])
    clock.advance(minutes=10)
    await fresh_token(app, owner)
    assert_problem(await client.post(f"{SESSIONS}/{session['id']}/complete"), 401)
    assert_problem(await client.post(f"{SESSIONS}/{session['id']}/abandon"), 401)
    assert ok(await client.get(ACTIVE, headers=owner.headers))["status"] == "active"
    assert await total_xp(client, owner) == 0


async def test_starting_a_workout_returns_an_active_session_with_its_workout(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    quick = await workout_named(client, "Quick HIIT Blast")
    session = await start(client, user, quick["id"])
    assert session["status"] == "active"
    assert session["identity_id"] == user.id
    assert session["workout_id"] == quick["id"]
    assert session["workout"]["name"] == "Quick HIIT Blast"
    assert session["started_at"].endswith(("Z", "+00:00"))
    assert session["completed_at"] is None
    assert session["xp_earned"] == 0
    assert session["credited"] is False


async def test_starting_an_unknown_workout_returns_404(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(SESSIONS, headers=user.headers, json={"workout_id": str(uuid.uuid4())})
    assert_problem(response, 404, "WORKOUT_NOT_FOUND")
    assert await count_rows(app, "workout_sessions", user.id) == 0


async def test_active_session_is_json_null_when_nothing_runs(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.get(ACTIVE, headers=user.headers)
    assert response.status_code == 200
    assert response.content == b"null"


async def test_active_session_shows_the_running_workout(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    quick = await workout_named(client, "Quick HIIT Blast")
    session = await start(client, user, quick["id"])
    active = ok(await client.get(ACTIVE, headers=user.headers))
    assert active["id"] == session["id"]
    assert active["workout"]["name"] == "Quick HIIT Blast"


async def test_active_session_of_one_person_is_invisible_to_another(app: FastAPI, client: httpx.AsyncClient) -> None:
    owner, other = await anonymous_user(app), await anonymous_user(app)
    quick = await workout_named(client, "Quick HIIT Blast")
    await start(client, owner, quick["id"])
    assert (await client.get(ACTIVE, headers=other.headers)).json() is None


async def test_starting_a_second_workout_abandons_the_first(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    first = await start(client, user, (await workout_named(client, "Quick HIIT Blast"))["id"])
    clock.advance(minutes=2)
    second = await start(client, user, (await workout_named(client, "Yoga Flow"))["id"])
    assert ok(await client.get(ACTIVE, headers=user.headers))["id"] == second["id"]
    history = {s["id"]: s for s in ok(await client.get(HISTORY, headers=user.headers))}
    assert history[first["id"]]["status"] == "abandoned"
    assert history[first["id"]]["duration_seconds"] == 120
    assert history[first["id"]]["xp_earned"] == 0
    abandoned = await events_of(client, user, "workout_abandoned")
    assert [e["related_id"] for e in abandoned] == [first["id"]]


async def test_parallel_starts_leave_exactly_one_active_session(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ids = [w["id"] for w in (await client.get("/api/v1/content/workouts", params={"limit": 5})).json()]
    responses = await asyncio.gather(
        *(client.post(SESSIONS, headers=user.headers, json={"workout_id": workout_id}) for workout_id in ids)
    )
    statuses = [r.status_code for r in responses]
    assert all(s in (201, 409) for s in statuses), [r.text for r in responses]
    assert 201 in statuses
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "SESSION_ALREADY_ACTIVE")
    history = ok(await client.get(HISTORY, headers=user.headers))
    assert [s["status"] for s in history].count("active") == 1
    assert len(history) == statuses.count(201)
    active = ok(await client.get(ACTIVE, headers=user.headers))
    assert active["status"] == "active"


async def test_history_lists_the_callers_sessions_newest_first(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user, other = await anonymous_user(app), await anonymous_user(app)
    workouts = ["Quick HIIT Blast", "Morning Stretch", "Yoga Flow"]
    started = []
    for name in workouts:
        started.append((await start(client, user, (await workout_named(client, name))["id"]))["id"])
        clock.advance(minutes=1)
    await start(client, other, (await workout_named(client, "Tabata Torch"))["id"])
    await fresh_token(app, user)
    history = ok(await client.get(HISTORY, headers=user.headers))
    assert [s["id"] for s in history] == started[::-1]
    assert [s["workout"]["name"] for s in history] == workouts[::-1]
    page = ok(await client.get(HISTORY, headers=user.headers, params={"limit": 1, "offset": 1}))
    assert [s["id"] for s in page] == [started[1]]


async def test_completing_another_persons_session_returns_404_and_leaves_it_running(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    owner, intruder = await anonymous_user(app), await anonymous_user(app)
    session = await start(client, owner, (await workout_named(client, "Quick HIIT Blast"))["id"])
    clock.advance(minutes=10)
    await fresh_token(app, owner)
    await fresh_token(app, intruder)
    response = await client.post(f"{SESSIONS}/{session['id']}/complete", headers=intruder.headers, json={})
    assert_problem(response, 404, "SESSION_NOT_FOUND")
    assert ok(await client.get(ACTIVE, headers=owner.headers))["status"] == "active"
    assert await total_xp(client, owner) == 0
    assert await total_xp(client, intruder) == 0


async def test_abandoning_another_persons_session_returns_404_and_leaves_it_running(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner, intruder = await anonymous_user(app), await anonymous_user(app)
    session = await start(client, owner, (await workout_named(client, "Quick HIIT Blast"))["id"])
    assert_problem(await client.post(f"{SESSIONS}/{session['id']}/abandon", headers=intruder.headers), 404)
    assert ok(await client.get(ACTIVE, headers=owner.headers))["status"] == "active"


async def test_completing_an_unknown_session_returns_404(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert_problem(await client.post(f"{SESSIONS}/{uuid.uuid4()}/complete", headers=user.headers), 404)


async def test_abandoning_sets_the_status_and_records_an_event(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    session = await start(client, user, (await workout_named(client, "Quick HIIT Blast"))["id"])
    clock.advance(minutes=3)
    body = ok(await client.post(f"{SESSIONS}/{session['id']}/abandon", headers=user.headers))
    assert body["status"] == "abandoned"
    assert body["completed_at"] is not None
    assert body["duration_seconds"] == 180
    assert body["credited"] is False
    assert (await client.get(ACTIVE, headers=user.headers)).json() is None
    assert [e["related_id"] for e in await events_of(client, user, "workout_abandoned")] == [session["id"]]
    assert await total_xp(client, user) == 0


async def test_completing_twice_returns_409_and_credits_once(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    session = await start(client, user, (await workout_named(client, "Quick HIIT Blast"))["id"])
    clock.advance(minutes=10)
    await fresh_token(app, user)
    first = await complete(client, user, session["id"])
    again = await client.post(f"{SESSIONS}/{session['id']}/complete", headers=user.headers, json={})
    body = assert_problem(again, 409, "SESSION_NOT_ACTIVE")
    assert "completed" in body["detail"]
    assert await total_xp(client, user) == first["xp_earned"]


async def test_abandoning_a_completed_session_returns_409_and_keeps_it_completed(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    session = await start(client, user, (await workout_named(client, "Quick HIIT Blast"))["id"])
    clock.advance(minutes=10)
    await fresh_token(app, user)
    done = await complete(client, user, session["id"])
    assert_problem(
        await client.post(f"{SESSIONS}/{session['id']}/abandon", headers=user.headers), 409, "SESSION_NOT_ACTIVE"
    )
    history = ok(await client.get(HISTORY, headers=user.headers))
    assert history[0]["status"] == "completed"
    assert history[0]["xp_earned"] == done["xp_earned"]


async def test_completing_an_abandoned_session_returns_409_and_earns_nothing(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    session = await start(client, user, (await workout_named(client, "Quick HIIT Blast"))["id"])
    clock.advance(minutes=10)
    await fresh_token(app, user)
    ok(await client.post(f"{SESSIONS}/{session['id']}/abandon", headers=user.headers))
    response = await client.post(f"{SESSIONS}/{session['id']}/complete", headers=user.headers, json={})
    assert_problem(response, 409, "SESSION_NOT_ACTIVE")
    assert await total_xp(client, user) == 0


async def test_abandoning_twice_returns_409(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    session = await start(client, user, (await workout_named(client, "Quick HIIT Blast"))["id"])
    ok(await client.post(f"{SESSIONS}/{session['id']}/abandon", headers=user.headers))
    assert_problem(await client.post(f"{SESSIONS}/{session['id']}/abandon", headers=user.headers), 409)


async def test_parallel_completes_succeed_once_and_credit_once(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    session = await start(client, user, (await workout_named(client, "Tabata Torch"))["id"])
    clock.advance(minutes=15)
    await fresh_token(app, user)
    responses = await asyncio.gather(
        *(client.post(f"{SESSIONS}/{session['id']}/complete", headers=user.headers, json={}) for _ in range(5))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409, 409, 409, 409], [r.text for r in responses]
    winner = next(r.json() for r in responses if r.status_code == 200)
    assert winner["credited"] is True
    assert winner["xp_earned"] > 0
    assert await total_xp(client, user) == winner["xp_earned"]
    workout_rows = [row for row in await ledger(client, user) if row["transaction_type"] == "workout_completed"]
    assert [row["amount"] for row in workout_rows] == [45]
    tabata = await workout_named(client, "Tabata Torch")
    assert tabata["times_completed"] == 1


async def test_starting_a_workout_records_a_workout_started_event(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    session = await start(client, user, (await workout_named(client, "Morning Stretch"))["id"])
    events = await events_of(client, user, "workout_started")
    assert len(events) == 1
    assert events[0]["related_id"] == session["id"]
    assert events[0]["metadata"]["workout_name"] == "Morning Stretch"
