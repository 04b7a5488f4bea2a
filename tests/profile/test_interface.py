"""The profile module's interface, as other modules (time keeper, social, uploads, coach) use it
inside their own unit of work; the effects are checked through the HTTP API."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from src.modules.profile import FitnessLevel, profile_service
from tests.factories import anonymous_user
from tests.profile.helpers import (
    EXPORT,
    FRIEND_CODE,
    GOALS,
    ONBOARDING,
    PROFILE,
    PROFILE_TABLES,
    RESTRICTIONS,
    SOCIAL,
    count_rows,
    in_unit_of_work,
    ok,
)


async def test_section_reads_for_other_modules_answer_defaults_without_writing(app: FastAPI) -> None:
    user = await anonymous_user(app)
    identity_id = uuid.UUID(user.id)

    preferences = await in_unit_of_work(app, lambda uow: profile_service(uow).preferences_of(identity_id))
    goals = await in_unit_of_work(app, lambda uow: profile_service(uow).goals_of(identity_id))
    restrictions = await in_unit_of_work(app, lambda uow: profile_service(uow).workout_restrictions_of(identity_id))
    safety = await in_unit_of_work(app, lambda uow: profile_service(uow).fasting_safety(identity_id))

    assert preferences.timezone == "UTC"
    assert goals.target_fasting_hours == 16
    assert restrictions.fitness_level is FitnessLevel.BEGINNER
    assert safety.safe is True
    for table in PROFILE_TABLES:
        assert await count_rows(app, table, user.id) == 0


async def test_section_reads_for_other_modules_return_what_was_saved(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    identity_id = uuid.UUID(user.id)
    ok(await client.patch(GOALS, json={"target_fasting_hours": 18}, headers=user.headers))
    ok(await client.patch(RESTRICTIONS, json={"fitness_level": "advanced"}, headers=user.headers))

    goals = await in_unit_of_work(app, lambda uow: profile_service(uow).goals_of(identity_id))
    restrictions = await in_unit_of_work(app, lambda uow: profile_service(uow).workout_restrictions_of(identity_id))

    assert goals.target_fasting_hours == 18
    assert restrictions.fitness_level is FitnessLevel.ADVANCED


async def test_social_counters_are_stored_for_other_modules(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    identity_id = uuid.UUID(user.id)
    ok(await client.post(PROFILE, json={}, headers=user.headers), 201)

    await in_unit_of_work(
        app, lambda uow: profile_service(uow).set_social_counters(identity_id, friends=2, followers=1, following=0)
    )
    await in_unit_of_work(
        app, lambda uow: profile_service(uow).set_social_counters(identity_id, friends=1, followers=1, following=3)
    )

    social = ok(await client.get(SOCIAL, headers=user.headers))
    assert (social["friends_count"], social["followers_count"], social["following_count"]) == (1, 1, 3)


async def test_public_profiles_apply_privacy_except_for_the_owner(app: FastAPI, client: httpx.AsyncClient) -> None:
    owner = await anonymous_user(app)
    viewer = await anonymous_user(app)
    ok(await client.post(PROFILE, json={"display_name": "Private Pat"}, headers=owner.headers), 201)
    ok(await client.patch(SOCIAL, json={"bio": "my bio"}, headers=owner.headers))
    owner_id, viewer_id = uuid.UUID(owner.id), uuid.UUID(viewer.id)

    seen = await in_unit_of_work(
        app, lambda uow: profile_service(uow).public_profiles(viewer_id, [owner_id, viewer_id])
    )
    own = await in_unit_of_work(app, lambda uow: profile_service(uow).public_profiles(owner_id, [owner_id]))

    assert set(seen) == {owner_id}  # the viewer has no social profile yet
    assert seen[owner_id].bio is None
    assert seen[owner_id].display_name is None
    assert own[owner_id].bio == "my bio"
    assert own[owner_id].display_name == "Private Pat"


async def test_own_friend_code_lookup_shows_your_own_private_details(app: FastAPI, client: httpx.AsyncClient) -> None:
    owner = await anonymous_user(app)
    ok(await client.post(PROFILE, json={"display_name": "Me"}, headers=owner.headers), 201)
    social = ok(await client.patch(SOCIAL, json={"bio": "mine"}, headers=owner.headers))

    body = ok(await client.get(f"{FRIEND_CODE}/{social['friend_code']}", headers=owner.headers))

    assert body["bio"] == "mine"
    assert body["display_name"] == "Me"


async def test_set_avatar_points_the_profile_at_the_upload_and_returns_the_previous_key(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    identity_id = uuid.UUID(user.id)

    first = await in_unit_of_work(
        app, lambda uow: profile_service(uow).set_avatar(identity_id, url="https://cdn/a.png", key="avatars/a.png")
    )
    second = await in_unit_of_work(
        app, lambda uow: profile_service(uow).set_avatar(identity_id, url="https://cdn/b.png", key="avatars/b.png")
    )

    assert first is None
    assert second == "avatars/a.png"
    assert ok(await client.get(PROFILE, headers=user.headers))["avatar_url"] == "https://cdn/b.png"
    assert ok(await client.get(ONBOARDING, headers=user.headers))["basic_profile_completed"] is True
    export = ok(await client.get(EXPORT, headers=user.headers))
    assert export["modules"]["profile"]["avatar_storage_key"] == "avatars/b.png"
