"""Conversations, personality, settings, memories and the coach's export; someone else's
conversation is 404."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.ai_coach.helpers import (
    COACH,
    CONVERSATIONS,
    MEMORIES,
    SETTINGS,
    assert_problem,
    ok,
    stream,
)
from tests.factories import anonymous_user


async def test_personality_accepts_the_apps_bare_json_string_and_the_query_parameter(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    assert ok(await client.get(SETTINGS, headers=user.headers))["personality"] == "motivational"
    body = ok(await client.put(f"{COACH}/personality", headers=user.headers, json="friendly"))
    assert body == {"status": "ok", "personality": "friendly"}
    assert ok(await client.get(SETTINGS, headers=user.headers))["personality"] == "friendly"
    ok(await client.put(f"{COACH}/personality", headers=user.headers, params={"personality": "tough"}))
    assert ok(await client.get(SETTINGS, headers=user.headers))["personality"] == "tough"
    assert_problem(await client.put(f"{COACH}/personality", headers=user.headers, json="grumpy"), 422)
    assert_problem(await client.put(f"{COACH}/personality", headers=user.headers), 422)
    hello = ok(await client.post(f"{COACH}/chat", headers=user.headers, json={"message": "hello"}))
    assert hello["response"]["message"].startswith("Good. You showed up.")  # the tough greeting


async def test_conversations_are_listed_renamed_archived_and_deleted(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    first = (await stream(client, user, "hello"))[0]["session_id"]
    clock.advance(minutes=1)
    second = (await stream(client, user, "Suggest a workout"))[0]["session_id"]
    listed = ok(await client.get(CONVERSATIONS, headers=user.headers))
    assert [c["session_id"] for c in listed["conversations"]] == [second, first]
    assert listed["total"] == 2
    assert listed["has_more"] is False
    assert ok(await client.get(CONVERSATIONS, headers=user.headers, params={"limit": 1}))["has_more"] is True

    renamed = ok(
        await client.patch(
            f"{CONVERSATIONS}/{first}", headers=user.headers, json={"title": "Mornings", "is_archived": True}
        )
    )
    assert renamed["title"] == "Mornings"
    assert renamed["message_count"] == 2
    assert ok(await client.get(CONVERSATIONS, headers=user.headers))["total"] == 1
    with_archived = ok(await client.get(CONVERSATIONS, headers=user.headers, params={"include_archived": "true"}))
    assert with_archived["total"] == 2

    ok(await client.delete(f"{CONVERSATIONS}/{second}", headers=user.headers))
    assert_problem(await client.get(f"{CONVERSATIONS}/{second}/messages", headers=user.headers), 404)


async def test_someone_elses_conversation_is_404_everywhere(app: FastAPI, client: httpx.AsyncClient) -> None:
    owner, other = await anonymous_user(app), await anonymous_user(app)
    session_id = (await stream(client, owner, "hello"))[0]["session_id"]
    path = f"{CONVERSATIONS}/{session_id}"
    assert_problem(await client.get(f"{path}/messages", headers=other.headers), 404, "CONVERSATION_NOT_FOUND")
    assert_problem(await client.patch(path, headers=other.headers, json={"title": "x"}), 404)
    assert_problem(await client.delete(path, headers=other.headers), 404)
    assert ok(await client.get(CONVERSATIONS, headers=other.headers))["total"] == 0
    assert len(ok(await client.get(f"{path}/messages", headers=owner.headers))) == 2


async def test_memories_are_extracted_listed_exported_and_forgotten(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    session_id = (await stream(client, user, "My knee hurts when I jump. I only have 20 minutes in the morning."))[0][
        "session_id"
    ]
    await stream(client, user, "My knee hurts a lot when I jump", session_id=session_id)  # the same fact again
    memories = ok(await client.get(MEMORIES, headers=user.headers))
    categories = sorted(m["category"] for m in memories)
    assert categories == ["availability", "injury"]  # the repeated knee fact is kept once
    assert all(m["source_session_id"] == session_id for m in memories)

    exported = ok(await client.get(f"{COACH}/export", headers=user.headers))
    assert len(exported["conversations"]) == 1
    assert [m["type"] for m in exported["conversations"][0]["messages"]] == ["human", "ai", "human", "ai"]
    assert len(exported["memories"]) == 2

    ok(await client.delete(f"{MEMORIES}/{memories[0]['id']}", headers=user.headers))
    assert len(ok(await client.get(MEMORIES, headers=user.headers))) == 1
    assert ok(await client.delete(MEMORIES, headers=user.headers)) == {"deleted": 1}
    assert ok(await client.get(MEMORIES, headers=user.headers)) == []


async def test_erasing_the_account_removes_everything_the_coach_holds(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await stream(client, user, "I work night shifts. Suggest a workout")
    ok(await client.put(SETTINGS, headers=user.headers, json={"share_biomarkers": True}))
    account = ok(await client.get("/api/v1/profile/export", headers=user.headers))
    coach = account["modules"]["ai_coach"]
    assert len(coach["conversations"]) == 1
    assert coach["settings"]["share_biomarkers"] is True
    ok(await client.delete("/api/v1/profile/all-data", headers=user.headers, params={"confirm": "true"}))
    from sqlalchemy import text

    async with app.state.sessions.reader() as session:
        for table in (
            "coach_conversations",
            "coach_messages",
            "coach_memories",
            "coach_user_settings",
            "coach_daily_usage",
        ):
            count = await session.scalar(text(f"SELECT count(*) FROM {table}"))  # noqa: S608 - fixed table names
            assert count == 0, table
