"""Onboarding: a closed set of steps, marked by the section saves; steps about real activity are
set only by the server; completion is stamped once."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from src.modules.profile import OnboardingStep, profile_service
from tests.factories import anonymous_user
from tests.profile.helpers import (
    DIETARY,
    GOALS,
    HEALTH,
    ONBOARDING,
    PROFILE,
    RESTRICTIONS,
    assert_problem,
    in_unit_of_work,
    ok,
)

SERVER_STEPS = ["first_fast_completed", "first_workout_completed", "first_weight_logged", "bloodwork_uploaded"]
CLIENT_STEPS = [
    "basic_profile_completed",
    "goals_set",
    "health_profile_completed",
    "dietary_preferences_set",
    "workout_restrictions_set",
]


@pytest.mark.parametrize(
    ("method", "path", "body", "step"),
    [
        ("POST", PROFILE, {"display_name": "Ana"}, "basic_profile_completed"),
        ("PATCH", PROFILE, {"display_name": "Ana"}, "basic_profile_completed"),
        ("PATCH", GOALS, {"weekly_workout_goal": 4}, "goals_set"),
        ("PATCH", HEALTH, {"takes_medication": False}, "health_profile_completed"),
        ("PATCH", DIETARY, {"dietary_preference": "vegan"}, "dietary_preferences_set"),
        ("PATCH", RESTRICTIONS, {"avoid_jumping": True}, "workout_restrictions_set"),
    ],
)
async def test_saving_a_section_marks_its_onboarding_step(
    app: FastAPI, client: httpx.AsyncClient, method: str, path: str, body: dict[str, object], step: str
) -> None:
    user = await anonymous_user(app)

    response = await client.request(method, path, json=body, headers=user.headers)
    assert response.status_code in (200, 201), response.text

    status = ok(await client.get(ONBOARDING, headers=user.headers))
    assert status[step] is True
    assert [s for s in CLIENT_STEPS if status[s]] == [step]
    assert status["onboarding_completed"] is False


async def test_onboarding_completes_when_profile_and_goals_are_saved(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    ok(await client.post(PROFILE, json={"display_name": "Ana"}, headers=user.headers), 201)
    assert ok(await client.get(ONBOARDING, headers=user.headers))["onboarding_completed"] is False
    finished_at = clock.advance(minutes=3)

    ok(await client.patch(GOALS, json={"primary_goal": "weight_loss"}, headers=user.headers))

    status = ok(await client.get(ONBOARDING, headers=user.headers))
    assert status["onboarding_completed"] is True
    assert status["completed_at"] in (finished_at.isoformat().replace("+00:00", "Z"), finished_at.isoformat())


async def test_completed_at_is_not_restamped_by_later_steps(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    ok(await client.post(PROFILE, json={}, headers=user.headers), 201)
    ok(await client.patch(GOALS, json={}, headers=user.headers))
    first = ok(await client.get(ONBOARDING, headers=user.headers))["completed_at"]
    assert first is not None

    clock.advance(minutes=10)
    ok(await client.patch(HEALTH, json={"conditions": []}, headers=user.headers))
    ok(await client.post(f"{ONBOARDING}/goals_set/complete", headers=user.headers))
    clock.advance(minutes=10)
    ok(await client.patch(PROFILE, json={"first_name": "Ana"}, headers=user.headers))

    status = ok(await client.get(ONBOARDING, headers=user.headers))
    assert status["completed_at"] == first
    assert status["health_profile_completed"] is True


async def test_skipping_goals_with_a_basic_profile_completes_onboarding(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    ok(await client.post(PROFILE, json={}, headers=user.headers), 201)

    status = ok(await client.post(f"{ONBOARDING}/goals_set/skip", headers=user.headers))

    assert status["goals_set"] is False
    assert status["skipped_steps"] == ["goals_set"]
    assert status["onboarding_completed"] is True
    assert status["completed_at"] is not None


async def test_skipping_other_steps_does_not_complete_onboarding(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.post(PROFILE, json={}, headers=user.headers), 201)

    status = ok(await client.post(f"{ONBOARDING}/health_profile_completed/skip", headers=user.headers))

    assert status["onboarding_completed"] is False
    assert status["completed_at"] is None


@pytest.mark.parametrize("step", CLIENT_STEPS)
async def test_client_can_complete_its_own_steps(app: FastAPI, client: httpx.AsyncClient, step: str) -> None:
    user = await anonymous_user(app)

    status = ok(await client.post(f"{ONBOARDING}/{step}/complete", headers=user.headers))

    assert status[step] is True
    assert ok(await client.get(ONBOARDING, headers=user.headers))[step] is True


@pytest.mark.parametrize("step", SERVER_STEPS)
async def test_client_cannot_complete_a_server_step(app: FastAPI, client: httpx.AsyncClient, step: str) -> None:
    user = await anonymous_user(app)

    assert_problem(
        await client.post(f"{ONBOARDING}/{step}/complete", headers=user.headers), 422, "ONBOARDING_STEP_SET_BY_SERVER"
    )

    assert ok(await client.get(ONBOARDING, headers=user.headers))[step] is False


@pytest.mark.parametrize("step", SERVER_STEPS)
async def test_client_can_skip_a_server_step(app: FastAPI, client: httpx.AsyncClient, step: str) -> None:
    user = await anonymous_user(app)

    status = ok(await client.post(f"{ONBOARDING}/{step}/skip", headers=user.headers))

    assert status["skipped_steps"] == [step]
    assert status[step] is False


@pytest.mark.parametrize(
    "step", ["identity_id", "skipped_steps", "completed_at", "onboarding_completed", "created_at", "nonsense"]
)
@pytest.mark.parametrize("action", ["complete", "skip"])
async def test_unknown_step_returns_422_and_leaves_the_status_intact(
    app: FastAPI, client: httpx.AsyncClient, step: str, action: str
) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(GOALS, json={}, headers=user.headers))

    assert_problem(await client.post(f"{ONBOARDING}/{step}/{action}", headers=user.headers), 422, "VALIDATION_ERROR")

    status = ok(await client.get(ONBOARDING, headers=user.headers))
    assert status["identity_id"] == user.id
    assert status["skipped_steps"] == []
    assert status["onboarding_completed"] is False
    assert status["completed_at"] is None


async def test_mark_onboarding_interface_sets_a_server_step(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    identity_id = uuid.UUID(user.id)

    await in_unit_of_work(
        app, lambda uow: profile_service(uow).mark_onboarding(identity_id, OnboardingStep.FIRST_FAST_COMPLETED)
    )
    await in_unit_of_work(
        app, lambda uow: profile_service(uow).mark_onboarding(identity_id, OnboardingStep.FIRST_FAST_COMPLETED)
    )

    status = ok(await client.get(ONBOARDING, headers=user.headers))
    assert status["first_fast_completed"] is True
    assert status["first_workout_completed"] is False


async def test_every_skip_is_kept(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    steps = ["health_profile_completed", "dietary_preferences_set", "bloodwork_uploaded", "workout_restrictions_set"]

    for step in steps:
        ok(await client.post(f"{ONBOARDING}/{step}/skip", headers=user.headers))
    ok(await client.post(f"{ONBOARDING}/{steps[0]}/skip", headers=user.headers))

    assert ok(await client.get(ONBOARDING, headers=user.headers))["skipped_steps"] == steps
