"""Reading a section that was never saved answers its defaults and writes nothing."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import anonymous_user
from tests.profile.helpers import (
    COMPLETE,
    DIETARY,
    FASTING_SAFETY,
    GOALS,
    HEALTH,
    ONBOARDING,
    PREFERENCES,
    PROFILE,
    PROFILE_TABLES,
    RESTRICTIONS,
    SAFE_EXERCISES,
    SOCIAL,
    assert_problem,
    count_rows,
    ok,
)

DEFAULTS = {
    GOALS: {
        "primary_goal": "improve_fitness",
        "secondary_goals": [],
        "weekly_workout_goal": 3,
        "daily_step_goal": 10000,
        "weekly_fasting_goal": 5,
        "target_fasting_hours": 16,
        "target_weight_kg": None,
    },
    HEALTH: {
        "conditions": [],
        "takes_medication": False,
        "medication_requires_food": False,
        "doctor_approved_fasting": False,
        "fasting_safe": True,
        "requires_medical_disclaimer": False,
        "condition_notes": None,
    },
    DIETARY: {"dietary_preference": "none", "allergies": [], "favorite_foods": [], "daily_calorie_target": None},
    RESTRICTIONS: {
        "injury_areas": [],
        "avoid_high_impact": False,
        "avoid_jumping": False,
        "avoid_heavy_weights": False,
        "avoid_floor_exercises": False,
        "fitness_level": "beginner",
        "max_workout_duration_minutes": 30,
    },
    PREFERENCES: {
        "unit_system": "metric",
        "timezone": "UTC",
        "language": "en",
        "default_fasting_protocol": "16:8",
        "workout_reminder_enabled": True,
        "dark_mode": False,
        "haptic_feedback": True,
        "sound_effects": True,
    },
    SOCIAL: {
        "username": None,
        "bio": None,
        "profile_public": False,
        "show_streaks": True,
        "show_achievements": True,
        "show_level": True,
        "show_workouts": False,
        "show_weight": False,
        "friends_count": 0,
    },
    ONBOARDING: {
        "basic_profile_completed": False,
        "goals_set": False,
        "onboarding_completed": False,
        "completed_at": None,
        "skipped_steps": [],
    },
    FASTING_SAFETY: {"safe": True, "warnings": [], "requires_medical_disclaimer": False},
    SAFE_EXERCISES: {"max_duration": 30, "fitness_level": "beginner"},
}


@pytest.mark.parametrize("path", list(DEFAULTS))
async def test_get_of_an_unsaved_section_answers_defaults_and_stores_no_row(
    app: FastAPI, client: httpx.AsyncClient, path: str
) -> None:
    user = await anonymous_user(app)

    body = ok(await client.get(path, headers=user.headers))

    for field, value in DEFAULTS[path].items():
        assert body[field] == value, (field, body)
    for table in PROFILE_TABLES:
        assert await count_rows(app, table, user.id) == 0, table


async def test_repeated_reads_of_unsaved_sections_stay_defaults_without_rows(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    for _ in range(3):
        for path in DEFAULTS:
            ok(await client.get(path, headers=user.headers))
    assert sum([await count_rows(app, table, user.id) for table in PROFILE_TABLES]) == 0


async def test_get_profile_before_creating_it_returns_404_profile_not_found(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)

    assert_problem(await client.get(PROFILE, headers=user.headers), 404, "PROFILE_NOT_FOUND")
    assert await count_rows(app, "user_profiles", user.id) == 0


async def test_complete_profile_before_creating_it_returns_404_profile_not_found(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(GOALS, json={"weekly_workout_goal": 4}, headers=user.headers))

    assert_problem(await client.get(COMPLETE, headers=user.headers), 404, "PROFILE_NOT_FOUND")


async def test_complete_profile_shows_saved_sections_and_null_for_unsaved_ones(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    ok(await client.post(PROFILE, json={"display_name": "Ana"}, headers=user.headers), 201)
    ok(await client.patch(GOALS, json={"weekly_workout_goal": 5}, headers=user.headers))

    body = ok(await client.get(COMPLETE, headers=user.headers))

    assert body["profile"]["display_name"] == "Ana"
    assert body["goals"]["weekly_workout_goal"] == 5
    assert body["health"] is None
    assert body["dietary"] is None
    assert body["workout_restrictions"] is None
    assert body["preferences"]["timezone"] == "UTC"
    assert body["social"]["friend_code"]
    assert body["onboarding"]["basic_profile_completed"] is True
    assert body["onboarding"]["goals_set"] is True


async def test_client_identity_id_query_parameter_is_ignored(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    other = await anonymous_user(app)
    ok(await client.patch(GOALS, json={"weekly_workout_goal": 6}, headers=other.headers))

    body = ok(await client.get(f"{GOALS}?identity_id={other.id}&identity_id={other.id}", headers=user.headers))

    assert body["identity_id"] == user.id
    assert body["weekly_workout_goal"] == 3
