"""Challenges: private by code, progress from server facts inside the challenge's dates for every
participant, capacity without races, and a result decided once when the challenge closes."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from src.core.clock import FrozenClock
from src.core.outbox import OutboxMessage
from src.core.uow import UnitOfWork
from tests.conftest import client_for
from tests.factories import User, fresh_token
from tests.progression.helpers import unlocked_names
from tests.social.helpers import (
    API,
    CHALLENGES,
    assert_problem,
    complete_workout,
    create_challenge,
    log_fast,
    ok,
    person,
    utc,
)


async def standings(client: httpx.AsyncClient, user: User, challenge_id: str) -> dict[str, dict[str, Any]]:
    rows = ok(await client.get(f"{CHALLENGES}/{challenge_id}/leaderboard", headers=user.headers))
    return {row["identity_id"]: row for row in rows}


async def close_due_challenges(app: FastAPI) -> int:
    """Run the outbox worker; how many challenge closings it delivered (notifications not counted)."""

    async def closed() -> int:
        async with app.state.sessions.reader() as session:
            found = await session.execute(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.topic == "social.challenge_close", OutboxMessage.delivered_at.is_not(None))
            )
            return int(found.scalar_one())

    before = await closed()
    await app.state.resources.outbox.drain()
    return await closed() - before


async def test_private_challenge_joined_by_code_moves_for_everyone_and_is_decided_once(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    ana, _ = await person(app, client, "ana")
    ben, _ = await person(app, client, "ben")
    created = await create_challenge(
        client, ana, name="Workout week", challenge_type="workout_count", goal_value=2, end_date="2026-03-12"
    )
    challenge_id = created["id"]
    assert created["is_participating"] is True
    assert created["status"] == "active"
    code = created["join_code"]

    # A stranger does not see the code and cannot join by id.
    peek = await client.get(f"{CHALLENGES}/{challenge_id}", headers=ben.headers)
    assert_problem(peek, 404, "CHALLENGE_NOT_FOUND")
    assert_problem(await client.post(f"{CHALLENGES}/{challenge_id}/join", headers=ben.headers), 404)
    joined = ok(await client.post(f"{CHALLENGES}/join/{code.lower()}", headers=ben.headers))
    assert joined["join_code"] == code
    assert joined["participant_count"] == 2
    assert_problem(await client.post(f"{CHALLENGES}/join/{code}", headers=ben.headers), 409, "ALREADY_PARTICIPATING")

    # Ben works out: Ana's view of the board moves without Ben asking for anything.
    await complete_workout(app, ben, utc(3, 10, 9))
    board = await standings(client, ana, challenge_id)
    assert board[ben.id]["progress"] == 1
    assert board[ana.id]["progress"] == 0
    assert (board[ben.id]["rank"], board[ana.id]["rank"]) == (1, 2)
    # A workout before the challenge began does not count.
    await complete_workout(app, ana, utc(3, 9, 9))
    assert (await standings(client, ben, challenge_id))[ana.id]["progress"] == 0
    # Ana works out twice and overtakes; she reaches the goal.
    await complete_workout(app, ana, utc(3, 11, 9))
    await complete_workout(app, ana, utc(3, 11, 18))
    board = await standings(client, ben, challenge_id)
    assert board[ana.id]["progress"] == 2
    assert board[ana.id]["completed"] is True
    assert (board[ana.id]["rank"], board[ben.id]["rank"]) == (1, 2)
    # A session too short for credit is not a completed workout.
    await complete_workout(app, ben, utc(3, 11, 20), eligible=False)
    assert (await standings(client, ana, challenge_id))[ben.id]["progress"] == 1

    # Nothing is decided before the challenge closes.
    assert await close_due_challenges(app) == 0
    clock.set(utc(3, 13, 17))
    await fresh_token(app, ana)
    await fresh_token(app, ben)
    assert await close_due_challenges(app) == 1
    decided = ok(await client.get(f"{CHALLENGES}/{challenge_id}", headers=ben.headers))
    assert decided["status"] == "completed"
    assert decided["winner_id"] == ana.id
    assert decided["my_rank"] == 2
    assert "Challenge Champion" in await unlocked_names(client, ana)
    assert "Challenge Champion" not in await unlocked_names(client, ben)
    assert "Challenge Accepted" in await unlocked_names(client, ben)

    # A second delivery of the close (at-least-once outbox) decides nothing again.
    async with app.state.sessions.writer() as session:
        uow = UnitOfWork(session=session, resources=app.state.resources)
        uow.enqueue("social.challenge_close", {"challenge_id": challenge_id})
        await session.commit()
    assert await close_due_challenges(app) == 1
    won = ok(await client.get(f"{API}/events/count", params={"event_type": "challenge_won"}, headers=ana.headers))
    assert won["count"] == 1
    assert ok(await client.get(f"{CHALLENGES}/{challenge_id}", headers=ana.headers))["winner_id"] == ana.id

    # Ranks are frozen: later activity inside the dates changes nothing.
    await complete_workout(app, ben, utc(3, 12, 9))
    assert (await standings(client, ana, challenge_id))[ben.id]["progress"] == 1
    assert await close_due_challenges(app) == 0

    carl, _ = await person(app, client, "carl")
    assert_problem(await client.post(f"{CHALLENGES}/join/{code}", headers=carl.headers), 409, "CHALLENGE_ENDED")


async def test_fasting_streak_counts_only_the_longest_run_inside_the_dates(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ana, _ = await person(app, client, "ana")
    # A run of fasts before the challenge (a lifetime streak) does not count.
    for day in (5, 6, 7, 8, 9):
        await log_fast(client, ana, utc(3, day, 0), utc(3, day, 13))
    created = await create_challenge(
        client, ana, challenge_type="fasting_streak", goal_value=3, start_date="2026-03-08"
    )
    assert created["my_progress"] == 2  # the 8th and 9th, inside the dates
    await log_fast(client, ana, utc(3, 9, 20), utc(3, 10, 9))
    mine = ok(await client.get(f"{CHALLENGES}/mine", headers=ana.headers))
    assert mine[0]["my_progress"] == 3


async def test_total_xp_and_consistency_count_inside_the_dates(app: FastAPI, client: httpx.AsyncClient) -> None:
    ana, _ = await person(app, client, "ana")
    await log_fast(client, ana, utc(3, 7, 20), utc(3, 8, 12))  # kept before the dates: its XP does not count
    before = ok(await client.get(f"{API}/progression/level", headers=ana.headers))["total_xp_earned"]
    xp = await create_challenge(client, ana, challenge_type="total_xp", goal_value=1000, start_date="2026-03-10")
    days = await create_challenge(client, ana, challenge_type="consistency", goal_value=5, start_date="2026-03-10")
    await log_fast(client, ana, utc(3, 9, 19), utc(3, 10, 11))
    await complete_workout(app, ana, utc(3, 10, 11))
    total = ok(await client.get(f"{API}/progression/level", headers=ana.headers))["total_xp_earned"]
    by_id = {c["id"]: c for c in ok(await client.get(f"{CHALLENGES}/mine", headers=ana.headers))}
    # All XP earned inside the dates (Challenge Accepted included), none of the earlier fast's.
    assert before >= 50
    assert by_id[xp["id"]]["my_progress"] == total - before > 80
    assert by_id[days["id"]]["my_progress"] == 1


async def test_a_fast_over_two_days_counts_for_both_days_of_a_consistency_challenge(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    ana, _ = await person(app, client, "ana")
    days = await create_challenge(client, ana, challenge_type="consistency", goal_value=5, start_date="2026-03-10")
    clock.set(utc(3, 12, 12))
    await fresh_token(app, ana)
    # 09:00 on the 10th to 05:00 on the 11th: 19 h of the 10th's streak day, and it ends on the 11th.
    await log_fast(client, ana, utc(3, 10, 9), utc(3, 11, 5))
    mine = ok(await client.get(f"{CHALLENGES}/mine", headers=ana.headers))
    assert [c["my_progress"] for c in mine if c["id"] == days["id"]] == [2]
    streaks = ok(await client.get(f"{API}/progression/streaks", headers=ana.headers))
    fasting = next(s for s in streaks if s["streak_type"] == "fasting")
    assert fasting["current_count"] == 2


async def test_capacity_holds_under_concurrent_joins(app: FastAPI, client: httpx.AsyncClient) -> None:
    host, _ = await person(app, client, "host")
    created = await create_challenge(client, host, is_public=True, max_participants=3)
    joiners = [(await person(app, client, f"joiner{i}"))[0] for i in range(5)]

    async def join(user: User) -> httpx.Response:
        async with client_for(app) as c:
            return await c.post(f"{CHALLENGES}/{created['id']}/join", headers=user.headers)

    responses = await asyncio.gather(*(join(u) for u in joiners))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 409, 409, 409], [r.text for r in responses]
    detail = ok(await client.get(f"{CHALLENGES}/{created['id']}", headers=host.headers))
    assert detail["participant_count"] == 3
    assert len(await standings(client, host, created["id"])) == 3


async def test_bad_challenges_and_leaving(app: FastAPI, client: httpx.AsyncClient) -> None:
    host, _ = await person(app, client, "host")
    guest, _ = await person(app, client, "guest")
    body = {"name": "Old", "challenge_type": "total_xp", "goal_value": 10}
    past = await client.post(
        CHALLENGES, json={**body, "start_date": "2026-03-01", "end_date": "2026-03-05"}, headers=host.headers
    )
    assert_problem(past, 422, "INVALID_CHALLENGE_DATES")
    backwards = await client.post(
        CHALLENGES, json={**body, "start_date": "2026-03-12", "end_date": "2026-03-11"}, headers=host.headers
    )
    assert_problem(backwards, 422)
    created = await create_challenge(client, host, is_public=True)
    ok(await client.post(f"{CHALLENGES}/{created['id']}/join", headers=guest.headers))
    leave = f"{CHALLENGES}/{created['id']}/leave"
    assert_problem(await client.delete(leave, headers=host.headers), 409, "CREATOR_CANNOT_LEAVE")
    assert (await client.delete(leave, headers=guest.headers)).status_code == 204
    assert_problem(await client.delete(leave, headers=guest.headers), 404, "NOT_PARTICIPATING")
    listed = ok(await client.get(CHALLENGES, headers=guest.headers))
    assert [c["id"] for c in listed] == [created["id"]]
    assert listed[0]["join_code"] is None


async def test_the_close_is_scheduled_for_when_the_last_day_is_over_everywhere(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    host, _ = await person(app, client, "host")
    created = await create_challenge(client, host, end_date="2026-03-20")
    async with app.state.sessions.reader() as session:
        due = (
            await session.execute(
                select(OutboxMessage.available_at, func.count())
                .where(OutboxMessage.topic == "social.challenge_close")
                .group_by(OutboxMessage.available_at)
            )
        ).all()
    assert [(at, n) for at, n in due] == [(utc(3, 21, 16), 1)]
    assert created["days_remaining"] == 10


async def test_a_completed_content_workout_session_moves_a_workout_challenge_and_can_be_shared(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    from tests.content.helpers import SESSIONS, start, workout_named

    ana, _ = await person(app, client, "ana")
    ben, _ = await person(app, client, "ben")
    created = await create_challenge(client, ana, challenge_type="workout_count", goal_value=3)
    tabata = await workout_named(client, "Tabata Torch")
    session = await start(client, ana, tabata["id"])
    clock.advance(minutes=15)
    await fresh_token(app, ana)
    await fresh_token(app, ben)
    ok(await client.post(f"{SESSIONS}/{session['id']}/complete", headers=ana.headers, json={}))
    assert ok(await client.get(f"{CHALLENGES}/{created['id']}", headers=ana.headers))["my_progress"] == 1

    shared = ok(
        await client.post(
            f"{API}/social/share/generate",
            json={"share_type": "workout", "related_id": session["id"]},
            headers=ana.headers,
        )
    )
    assert "Tabata Torch" in shared["message"]
    assert shared["deep_link"] == f"ugoki://share/workout/{session['id']}"
    assert_problem(
        await client.post(
            f"{API}/social/share/generate",
            json={"share_type": "workout", "related_id": session["id"]},
            headers=ben.headers,
        ),
        404,
        "SHARE_SUBJECT_NOT_FOUND",
    )


async def test_a_private_challenge_is_visible_to_the_creators_friends_without_its_code(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    from tests.social.helpers import befriend

    host, _ = await person(app, client, "host")
    friend, friend_social = await person(app, client, "pal")
    await befriend(client, host, friend, friend_social["friend_code"])
    created = await create_challenge(client, host)
    listed = ok(await client.get(CHALLENGES, headers=friend.headers))
    assert [c["id"] for c in listed] == [created["id"]]
    assert listed[0]["join_code"] is None
    seen = ok(await client.get(f"{CHALLENGES}/{created['id']}", headers=friend.headers))
    assert seen["join_code"] is None
    assert seen["is_participating"] is False
    # Still joined only with the code.
    assert_problem(await client.post(f"{CHALLENGES}/{created['id']}/join", headers=friend.headers), 404)
    joined = ok(await client.post(f"{CHALLENGES}/join/{created['join_code']}", headers=friend.headers))
    assert joined["join_code"] == created["join_code"]
