"""Profile changes appear in the activity feed, naming the section but never the values."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.factories import anonymous_user
from tests.profile.helpers import DIETARY, FEED, GOALS, HEALTH, PREFERENCES, PROFILE, RESTRICTIONS, SOCIAL, ok


async def feed_of(client: httpx.AsyncClient, headers: dict[str, str]) -> list[dict[str, object]]:
    return ok(await client.get(FEED, params={"category": "profile", "limit": 100}, headers=headers))  # type: ignore[no-any-return]


async def test_creating_the_profile_records_profile_created(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.post(PROFILE, json={"display_name": "Ana"}, headers=user.headers), 201)

    events = await feed_of(client, user.headers)

    assert [e["event_type"] for e in events] == ["profile_created"]
    assert events[0]["metadata"] == {"section": "profile"}


async def test_a_failed_second_create_records_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.post(PROFILE, json={}, headers=user.headers), 201)
    assert (await client.post(PROFILE, json={}, headers=user.headers)).status_code == 400

    assert [e["event_type"] for e in await feed_of(client, user.headers)] == ["profile_created"]


async def test_each_section_save_records_its_event_with_the_section_name(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    saves = [
        (PROFILE, {"first_name": "Ana"}, "profile_updated", "profile"),
        (GOALS, {"weekly_workout_goal": 4}, "goals_updated", "goals"),
        (HEALTH, {"conditions": ["pregnant"], "condition_notes": "secret-note-xyz"}, "profile_updated", "health"),
        (DIETARY, {"allergies": ["peanuts"]}, "profile_updated", "dietary"),
        (RESTRICTIONS, {"injury_areas": ["knee"]}, "profile_updated", "workout_restrictions"),
        (SOCIAL, {"bio": "hello"}, "profile_updated", "social"),
        (PREFERENCES, {"timezone": "Europe/Paris"}, "preferences_updated", "preferences"),
    ]
    for path, body, _, _ in saves:
        ok(await client.patch(path, json=body, headers=user.headers))

    events = await feed_of(client, user.headers)

    recorded = sorted((e["event_type"], e["metadata"]["section"]) for e in events)  # type: ignore[index]
    assert recorded == sorted((event_type, section) for _, _, event_type, section in saves)
    for event in events:
        assert event["metadata"] == {"section": event["metadata"]["section"]}  # type: ignore[index]
        assert event["category"] == "profile"
    text = str(events)
    for value in ("pregnant", "secret-note-xyz", "peanuts", "knee", "Europe/Paris", "Ana"):
        assert value not in text


async def test_reads_record_no_events(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    for path in (GOALS, HEALTH, DIETARY, RESTRICTIONS, SOCIAL, PREFERENCES):
        ok(await client.get(path, headers=user.headers))

    assert await feed_of(client, user.headers) == []


async def test_a_rejected_patch_records_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert (await client.patch(GOALS, json={"weekly_workout_goal": 99}, headers=user.headers)).status_code == 422

    assert await feed_of(client, user.headers) == []
