"""Safety through the API: crisis guidance with the person's emergency numbers before anything
else, medical redirects, no false blocks, and fasting coaching off for those it would endanger."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from src.modules.ai_coach.safety import MEDICAL_DISCLAIMER
from tests.ai_coach.helpers import (
    CHAT,
    CONVERSATIONS,
    HEALTH,
    PREFERENCES,
    ask,
    assert_problem,
    ok,
    stream,
)
from tests.factories import anonymous_user


async def test_an_emergency_gets_crisis_guidance_with_the_uk_numbers(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(PREFERENCES, headers=user.headers, json={"timezone": "Europe/London"}))
    body = await ask(client, user, "I don’t want to live anymore")
    assert body["safety_redirected"] is True
    assert "999" in body["response"]["message"]
    assert "116 123" in body["response"]["message"]


async def test_chest_pain_gets_the_us_emergency_number(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(PREFERENCES, headers=user.headers, json={"language": "en-US"}))
    body = await ask(client, user, "I have CHEST PAIN during my fast")
    assert "Call 911 now" in body["response"]["message"]
    assert body["safety_redirected"] is True


async def test_an_emergency_on_the_stream_is_one_redirected_reply_and_stored(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    chunks = await stream(client, user, "i want to kill myself")
    assert chunks[0]["session_id"]
    assert "112" in chunks[0]["text"]  # no locale known: the international numbers
    assert chunks[-1]["complete"] is True
    assert chunks[-1]["safety_redirected"] is True
    messages = ok(await client.get(f"{CONVERSATIONS}/{chunks[0]['session_id']}/messages", headers=user.headers))
    assert [m["type"] for m in messages] == ["human", "ai"]
    assert messages[1]["content"] == "".join(c["text"] for c in chunks)
    assert messages[1]["safety_redirected"] is True


async def test_a_dosing_question_is_redirected_without_an_amount(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    body = await ask(client, user, "What dose of magnesium should I take while fasting?")
    assert body["safety_redirected"] is True
    assert "doctor or pharmacist" in body["response"]["message"]
    assert MEDICAL_DISCLAIMER in body["response"]["message"]
    assert " mg" not in body["response"]["message"]


async def test_benign_words_that_resemble_triggers_get_a_normal_answer(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    for message in (
        "I love the adrenaline of a HIIT workout, which one today?",
        "Is breaststroke a good workout? Or which session today?",
        "I'm dying to try a new workout",
        "My sports medicine doctor gave me a prescribed workout plan, suggest a session",
    ):
        body = await ask(client, user, message)
        assert body["safety_redirected"] is False, message
        assert "For today I suggest" in body["response"]["message"], message


async def test_pregnancy_turns_fasting_coaching_off_but_not_workouts(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(HEALTH, headers=user.headers, json={"conditions": ["pregnant"]}))
    fasting = await ask(client, user, "How long should my fast be today?")
    assert fasting["safety_redirected"] is True
    assert "Fasting coaching is turned off" in fasting["response"]["message"]
    assert "pregnant" in fasting["response"]["message"]
    workout = await ask(client, user, "Suggest a workout")
    assert workout["safety_redirected"] is False
    assert "For today I suggest" in workout["response"]["message"]


async def test_an_emergency_is_answered_even_past_the_daily_quota(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    for _ in range(10):
        await ask(client, user, "Suggest a workout")
    assert_problem(
        await client.post(CHAT, headers=user.headers, json={"message": "hello"}), 429, "COACH_DAILY_QUOTA_EXCEEDED"
    )
    body = await ask(client, user, "I can't breathe")
    assert body["safety_redirected"] is True
    assert "emergency" in body["response"]["message"]
