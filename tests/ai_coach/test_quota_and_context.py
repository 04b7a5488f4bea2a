"""The daily message quota in the person's time zone, the context the coach sees, today's
insight and motivation, compaction of long conversations, and the bounded cost of a message."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from src.core.uow import UnitOfWork
from src.modules.identity import identity_service
from tests.ai_coach.helpers import (
    CHAT,
    COACH,
    CONVERSATIONS,
    PREFERENCES,
    ask,
    assert_problem,
    ok,
    person_with_history,
    stream,
)
from tests.factories import anonymous_user, fresh_token
from tests.metrics.helpers import counting_statements


async def test_free_quota_is_ten_a_day_and_429_says_when_it_resets_in_the_persons_zone(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    clock.set(datetime(2026, 3, 10, 20, 0, tzinfo=UTC))  # 21:00 in Berlin
    user = await anonymous_user(app)
    ok(await client.patch(PREFERENCES, headers=user.headers, json={"timezone": "Europe/Berlin"}))
    for _ in range(5):
        await ask(client, user, "hello")
    for _ in range(5):
        await stream(client, user, "hello")
    response = await client.post(CHAT, headers=user.headers, json={"message": "one more"})
    body = assert_problem(response, 429, "COACH_DAILY_QUOTA_EXCEEDED")
    assert response.headers["Retry-After"] == str(3 * 3600)  # midnight in Berlin is 23:00 UTC
    assert body["limit"] == 10
    streamed = await client.post(f"{COACH}/stream", headers=user.headers, json={"message": "one more"})
    assert_problem(streamed, 429, "COACH_DAILY_QUOTA_EXCEEDED")

    clock.set(datetime(2026, 3, 10, 23, 1, tzinfo=UTC))  # a new day in Berlin, still the 10th in UTC
    await fresh_token(app, user)
    await ask(client, user, "hello again")
    context = ok(await client.get(f"{COACH}/context", headers=user.headers))
    assert context["messages_today"] == 1
    assert context["daily_message_limit"] == 10


async def test_premium_members_get_fifty_messages(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    async with app.state.sessions.writer() as session:
        await identity_service(UnitOfWork(session=session, resources=app.state.resources)).grant_capability(
            uuid.UUID(user.id), "premium"
        )
        await session.commit()
    await fresh_token(app, user)
    context = ok(await client.get(f"{COACH}/context", headers=user.headers))
    assert context["daily_message_limit"] == 50


async def test_context_holds_the_persons_real_figures(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    person = await person_with_history(app, client, clock)
    context = ok(await client.get(f"{COACH}/context", headers=person.user.headers))
    level = ok(await client.get("/api/v1/progression/level", headers=person.user.headers))
    assert context["level"] == level["current_level"]
    assert context["total_xp"] == level["total_xp_earned"] > 0
    assert context["streaks"]["fasting"] == 3
    assert context["active_fast"]["protocol"] == "16:8"
    assert context["active_fast"]["elapsed_hours"] == pytest.approx(13.33, abs=0.01)
    assert context["active_fast"]["stage"] == "catabolic"
    assert context["active_fast"]["next_stage_in_hours"] == pytest.approx(2.67, abs=0.01)
    assert context["fasts_last_7_days"] == 3
    assert context["average_fast_hours_last_7_days"] == 15.2
    assert context["total_workouts"] == 2
    assert context["weight_kg"] == 82.4
    assert context["weight_change_30_days_kg"] == -1.6
    assert context["local_date"] == "2026-03-10"


async def test_insight_comes_from_the_persons_data(app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock) -> None:
    person = await person_with_history(app, client, clock)
    insight = ok(await client.get(f"{COACH}/insight", headers=person.user.headers))
    assert insight["content"] == ("You're 13 h 20 min into your fast; fat burning starts at 16 h, in 2 h 40 min.")
    assert insight["priority"] == 1
    motivation = ok(
        await client.get(f"{COACH}/motivation", headers=person.user.headers, params={"context": "completed fast"})
    )
    assert motivation["message"].startswith("Fast complete")
    plain = ok(await client.get(f"{COACH}/motivation", headers=person.user.headers, params={"personality": "calm"}))
    assert plain["personality"] == "calm"
    assert "fasting streak is at 3 days" in plain["message"]


async def test_insight_without_an_active_fast_reports_the_weeks_fasts(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    for day in (5, 7):  # no streak left to save today: the week's average is the news
        start = datetime(2026, 3, day, 20, tzinfo=UTC)
        ok(
            await client.post(
                "/api/v1/time-keeper/windows",
                headers=user.headers,
                json={
                    "window_type": "fast",
                    "protocol": "16:8",
                    "start_time": start.isoformat(),
                    "end_time": (start + timedelta(hours=15, minutes=12)).isoformat(),
                },
            ),
            201,
        )
    insight = ok(await client.get(f"{COACH}/insight", headers=user.headers))
    assert insight["content"] == "Your fasts of the last 7 days averaged 15.2 h across 2 fasts (longest 15.2 h)."
    assert insight["category"] == "fasting"


@pytest.mark.parametrize("settings_overrides", [{"coach_compact_after_messages": 6}], indirect=True)
async def test_a_long_conversation_is_compacted_keeping_the_last_messages(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    session_id = (await stream(client, user, "hello"))[0]["session_id"]
    for question in ("Suggest a workout", "How is my fast?", "What level am I?", "hi again"):
        await stream(client, user, question, session_id=session_id)
    exported = ok(await client.get(f"{COACH}/export", headers=user.headers))
    conversation = exported["conversations"][0]
    assert conversation["summary"].startswith("The person asked about: hello; Suggest a workout")
    assert len(conversation["messages"]) == 10  # everything is still stored
    messages = ok(await client.get(f"{CONVERSATIONS}/{session_id}/messages", headers=user.headers))
    assert len(messages) == 10


async def test_a_message_costs_a_bounded_number_of_statements(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    person = await person_with_history(app, client, clock)
    await ask(client, person.user, "hello")  # warm the session cache
    counts = {}
    for question in ("How is my fast going?", "Which workout today?", "How did I sleep?", "Hello"):
        with counting_statements(app) as log:
            await ask(client, person.user, question)
        counts[question] = len(log.statements)
    assert max(counts.values()) <= 30, counts


async def test_parallel_messages_never_exceed_the_quota(app: FastAPI, client: httpx.AsyncClient) -> None:
    import asyncio

    from tests.conftest import client_for

    user = await anonymous_user(app)

    async def one() -> int:
        async with client_for(app) as c:
            return (await c.post(CHAT, headers=user.headers, json={"message": "Suggest a workout"})).status_code

    statuses = await asyncio.gather(*(one() for _ in range(14)))
    assert sorted(statuses) == [200] * 10 + [429] * 4
    context = ok(await client.get(f"{COACH}/context", headers=user.headers))
    assert context["messages_today"] == 10


async def test_fasting_coaching_is_off_for_someone_under_18(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.post("/api/v1/profile", headers=user.headers, json={"display_name": "Sam"}), 201)
    ok(await client.patch("/api/v1/profile", headers=user.headers, json={"date_of_birth": "2010-05-01"}))
    body = await ask(client, user, "How is my fast going?")
    assert body["safety_redirected"] is True
    assert "an age under 18" in body["response"]["message"]
