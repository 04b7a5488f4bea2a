"""With no provider configured, the offline coach answers typical questions from the person's own
numbers (each answer is checked for them)."""

from __future__ import annotations

import json
import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from src.core.clock import FrozenClock
from src.database import Base
from tests.ai_coach.helpers import API, ask, ok, person_with_history


async def test_eight_typical_questions_are_answered_with_the_persons_own_numbers(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    person = await person_with_history(app, client, clock)
    user = person.user

    fast = await ask(client, user, "How is my fast going?")
    text = fast["response"]["message"]
    assert "13 h 20 min into your 16:8 fast" in text
    assert "catabolic stage" in text
    assert "Fat burning starts at 16 h, in 2 h 40 min" in text
    assert "3 fasts averaging 15.2 h" in text
    assert fast["safety_redirected"] is False

    meal = (await ask(client, user, "What should I eat to break my fast?"))["response"]["message"]
    assert "vegetarian" in meal
    assert "lentil soup" in meal
    assert "eggs with" not in meal  # their allergy
    assert "left out eggs" in meal

    workout = await ask(client, user, "Which workout should I do today?")
    assert person.recommended["workout"]["name"] in workout["response"]["message"]
    assert "knee" in workout["response"]["message"]
    assert "2 workouts in total, 1 of your 3 this week" in workout["response"]["message"]  # Monday start
    assert workout["response"]["workout_recommendation"]["name"] == person.recommended["workout"]["name"]

    weight = (await ask(client, user, "How is my weight progress?"))["response"]["message"]
    assert "82.4 kg" in weight
    assert "down by 1.6 kg, from 84 kg" in weight
    assert "4.4 kg to go to your 78 kg target" in weight

    level = (await ask(client, user, "What level am I and how are my streaks?"))["response"]["message"]
    mine = ok(await client.get(f"{API}/progression/level", headers=user.headers))
    to_next = mine["xp_for_next_level"] - mine["current_xp"]
    assert f"level {mine['current_level']} ({mine['title']}) with {mine['total_xp_earned']} XP" in level
    assert f"{to_next} XP to level {mine['current_level'] + 1}" in level
    assert "fasting 3 days (best 3)" in level
    assert "workout 1 day (best 1)" in level

    labs = await ask(client, user, "Is my LDL cholesterol ok?")
    labs_text = labs["response"]["message"]
    assert "LDL cholesterol 3.4 mmol/L (reference 0-3 mmol/L; flagged high)" in labs_text
    assert "doctor" in labs_text
    assert "diagnos" not in labs_text.split("\n\n")[0]  # explained, never diagnosed
    assert labs["safety_redirected"] is True  # carries the medical disclaimer

    sleep = (await ask(client, user, "How did I sleep, am I recovered?"))["response"]["message"]
    assert "you slept 6.5 h" in sleep
    assert "resting heart rate 58 bpm" in sleep
    assert "recovery score is 60/100 (good)" in sleep.lower()

    hello = await ask(client, user, "Hello!")
    assert "13 h 20 min" in hello["response"]["message"]
    assert hello["quick_actions"][0] == {"label": "Start Fast", "action": "start_fast", "params": {"protocol": "16:8"}}


async def test_every_read_of_health_data_by_the_coach_is_journalled(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    person = await person_with_history(app, client, clock)
    await ask(client, person.user, "How is my weight progress?")
    await ask(client, person.user, "Is my LDL cholesterol ok?")
    events = Base.metadata.tables["activity_events"]
    async with app.state.sessions.reader() as session:
        rows = (
            await session.execute(
                select(events.c.metadata).where(
                    events.c.identity_id == uuid.UUID(person.user.id), events.c.event_type == "health_data_accessed"
                )
            )
        ).all()
    reads = [json.loads(r[0]) if isinstance(r[0], str) else r[0] for r in rows]
    by_coach = [r for r in reads if r["accessed_by"] == "ai_coach"]
    assert any("weight_kg" in r["metric_types"] for r in by_coach)
    assert any("biomarker_ldl_cholesterol" in r["metric_types"] for r in by_coach)
