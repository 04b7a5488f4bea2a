"""Account export and erasure of social data, the journal of social actions, the queued
notifications, social achievements and share texts."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import or_, select

from src.core.outbox import OutboxMessage
from src.database import Base
from tests.progression.helpers import unlocked_names
from tests.social.helpers import (
    API,
    CHALLENGES,
    FOLLOWING,
    FRIEND_REQUEST,
    FRIENDS,
    SHARE,
    SOCIAL,
    assert_problem,
    befriend,
    board,
    counters,
    create_challenge,
    log_fast,
    ok,
    person,
    utc,
)

SOCIAL_TABLES = {
    "friendships": ("identity_id_a", "identity_id_b", "requested_by"),
    "social_blocks": ("blocker_id", "blocked_id"),
    "follows": ("follower_id", "following_id"),
    "challenges": ("created_by", "winner_id"),
    "challenge_participants": ("identity_id",),
    "social_activity_days": ("identity_id",),
    "social_xp_totals": ("identity_id",),
    "social_streak_standings": ("identity_id",),
    "social_members": ("identity_id",),
}


async def social_rows_naming(app: FastAPI, identity_id: str) -> dict[str, int]:
    target = uuid.UUID(identity_id)
    found: dict[str, int] = {}
    async with app.state.sessions.reader() as session:
        for name, columns in SOCIAL_TABLES.items():
            table = Base.metadata.tables[name]
            rows = (await session.execute(select(table).where(or_(*(table.c[c] == target for c in columns))))).all()
            if rows:
                found[name] = len(rows)
    return found


async def notifications(app: FastAPI, recipient: str) -> list[dict[str, Any]]:
    async with app.state.sessions.reader() as session:
        rows = (
            await session.execute(
                select(OutboxMessage.payload).where(
                    OutboxMessage.topic == "notification.send", OutboxMessage.identity_id == uuid.UUID(recipient)
                )
            )
        ).scalars()
        return [dict(p) for p in rows]


async def test_erasure_takes_the_person_out_of_everyone_elses_social_life(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    alice, _ = await person(app, client, "alice")
    bob, bob_social = await person(app, client, "bob")
    carol, _ = await person(app, client, "carol")
    await befriend(client, alice, bob, bob_social["friend_code"])
    ok(await client.post(f"{SOCIAL}/follow/{alice.id}", headers=carol.headers), 201)
    ok(await client.post(f"{SOCIAL}/follow/{bob.id}", headers=alice.headers), 201)
    assert (await client.post(f"{FRIENDS}/{carol.id}/block", headers=alice.headers)).status_code == 204
    challenge = await create_challenge(client, alice, is_public=True)
    ok(await client.post(f"{CHALLENGES}/{challenge['id']}/join", headers=bob.headers))
    await log_fast(client, alice, utc(3, 9, 18), utc(3, 10, 10))
    assert alice.id in {e["identity_id"] for e in (await board(client, bob, "global_xp"))["entries"]}
    assert await counters(client, bob) == (1, 1, 0)

    exported = ok(await client.get(f"{API}/profile/export", headers=alice.headers))["modules"]["social"]
    assert [f["other_id"] for f in exported["friendships"]] == [bob.id]
    assert [b["blocked_id"] for b in exported["blocks"]] == [carol.id]
    assert len(exported["challenge_participations"]) == 1

    ok(await client.delete(f"{API}/profile/all-data?confirm=true", headers=alice.headers))

    assert await social_rows_naming(app, alice.id) == {}
    assert ok(await client.get(FRIENDS, headers=bob.headers)) == []
    assert await counters(client, bob) == (0, 0, 0)
    assert await counters(client, carol) == (0, 0, 0)
    assert ok(await client.get(FOLLOWING, headers=carol.headers)) == []
    assert alice.id not in {e["identity_id"] for e in (await board(client, bob, "global_xp"))["entries"]}
    left = ok(await client.get(f"{CHALLENGES}/{challenge['id']}", headers=bob.headers))
    assert left["participant_count"] == 1
    assert left["created_by"] is None


async def test_anonymisation_keeps_challenge_places_under_a_new_id(app: FastAPI, client: httpx.AsyncClient) -> None:
    alice, _ = await person(app, client, "alice")
    bob, _ = await person(app, client, "bob")
    challenge = await create_challenge(client, alice, is_public=True)
    ok(await client.post(f"{CHALLENGES}/{challenge['id']}/join", headers=bob.headers))
    ok(await client.post(f"{API}/profile/anonymize", headers=alice.headers))
    assert await social_rows_naming(app, alice.id) == {}
    rows = ok(await client.get(f"{CHALLENGES}/{challenge['id']}/leaderboard", headers=bob.headers))
    assert len(rows) == 2
    assert alice.id not in {r["identity_id"] for r in rows}


async def test_social_actions_are_journaled_and_notified(app: FastAPI, client: httpx.AsyncClient) -> None:
    alice, _ = await person(app, client, "alice")
    bob, bob_social = await person(app, client, "bob")
    sent = ok(
        await client.post(FRIEND_REQUEST, json={"friend_code": bob_social["friend_code"]}, headers=alice.headers), 201
    )
    request_note = await notifications(app, bob.id)
    assert [n["data"].get("type") for n in request_note] == ["friend_request"]
    assert request_note[0]["data"]["request_id"] == sent["id"]
    assert set(request_note[0]) == {"identity_id", "category", "title", "body", "data"}
    ok(await client.post(f"{FRIENDS}/requests/{sent['id']}/respond", json={"accept": True}, headers=bob.headers))
    assert "friend_accepted" in [n["data"].get("type") for n in await notifications(app, alice.id)]
    challenge = await create_challenge(client, alice, is_public=True)
    ok(await client.post(f"{CHALLENGES}/{challenge['id']}/join", headers=bob.headers))
    assert "challenge_joined" in [n["data"].get("type") for n in await notifications(app, alice.id)]
    ok(await client.post(f"{SOCIAL}/follow/{alice.id}", headers=bob.headers), 201)

    def types(rows: list[dict[str, Any]]) -> set[str]:
        return {row["event_type"] for row in rows}

    alice_events = ok(await client.get(f"{API}/events", params={"limit": 100}, headers=alice.headers))
    bob_events = ok(await client.get(f"{API}/events", params={"limit": 100}, headers=bob.headers))
    assert {"friend_request_sent", "challenge_created", "challenge_joined"} <= types(alice_events)
    assert {"friend_request_accepted", "challenge_joined", "follow_started"} <= types(bob_events)


async def test_five_friends_unlock_social_butterfly(app: FastAPI, client: httpx.AsyncClient) -> None:
    me, _ = await person(app, client, "popular")
    for i in range(5):
        friend, social = await person(app, client, f"friend{i}")
        await befriend(client, me, friend, social["friend_code"])
        if i == 3:
            assert "Social Butterfly" not in await unlocked_names(client, me)
    assert "Social Butterfly" in await unlocked_names(client, me)


async def test_share_texts_carry_real_figures_and_refuse_someone_elses_ids(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    me, _ = await person(app, client, "sharer")
    other, _ = await person(app, client, "other")
    await log_fast(client, me, utc(3, 9, 18), utc(3, 10, 10))
    await log_fast(client, other, utc(3, 9, 18), utc(3, 10, 10))
    streak = ok(await client.post(SHARE, json={"share_type": "streak"}, headers=me.headers))
    assert "1 day" in streak["message"]
    assert streak["deep_link"] == "ugoki://share/streak"
    level = ok(await client.post(SHARE, json={"share_type": "level_up"}, headers=me.headers))
    xp = ok(await client.get(f"{API}/progression/level", headers=me.headers))
    assert f"{xp['total_xp_earned']} XP" in level["message"]
    mine = ok(await client.get(f"{API}/progression/achievements/mine", headers=me.headers))
    unlocked = next(a for a in mine if a["is_unlocked"])
    shared = ok(
        await client.post(
            SHARE, json={"share_type": "achievement", "related_id": unlocked["achievement_id"]}, headers=me.headers
        )
    )
    assert unlocked["achievement"]["name"] in shared["title"]
    assert shared["deep_link"].endswith(unlocked["achievement_id"])
    locked = next(a for a in mine if not a["is_unlocked"])
    assert_problem(
        await client.post(
            SHARE, json={"share_type": "achievement", "related_id": locked["achievement_id"]}, headers=me.headers
        ),
        404,
    )
    assert_problem(
        await client.post(
            SHARE, json={"share_type": "challenge_win", "related_id": str(uuid.uuid4())}, headers=me.headers
        ),
        404,
    )
    assert_problem(await client.post(SHARE, json={"share_type": "achievement"}, headers=me.headers), 422)
    custom = ok(
        await client.post(SHARE, json={"share_type": "workout", "custom_message": "Look at me"}, headers=me.headers)
    )
    assert custom["message"] == "Look at me"
    generic = ok(await client.post(SHARE, json={"share_type": "whatever"}, headers=me.headers))
    assert generic["deep_link"] == "ugoki://share/generic"
