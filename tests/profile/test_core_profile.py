"""The core profile: creation (400 on a second POST, as the app expects), concurrent first
writes, and PATCH semantics (only sent fields change, null clears, avatar_url is server-owned)."""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from src.modules.profile import profile_service
from tests.factories import anonymous_user
from tests.profile.helpers import GOALS, PROFILE, SOCIAL, assert_problem, count_rows, in_unit_of_work, ok

FULL_PROFILE = {
    "email": "ana@example.com",
    "display_name": "Ana",
    "first_name": "Ana",
    "last_name": "Silva",
    "phone": "+351 912 345 678",
    "date_of_birth": "1990-05-17",
    "gender": "female",
    "height_cm": 168.5,
}


async def test_create_profile_returns_201_with_the_fields_sent(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    body = ok(
        await client.post(
            PROFILE,
            json={"email": "ana@example.com", "display_name": "Ana", "first_name": "Ana", "last_name": "Silva"},
            headers=user.headers,
        ),
        201,
    )

    assert body["identity_id"] == user.id
    assert body["email"] == "ana@example.com"
    assert body["display_name"] == "Ana"
    assert body["last_name"] == "Silva"
    assert body["avatar_url"] is None
    assert re.search(r"(Z|[+-]\d\d:\d\d)$", body["created_at"])
    assert ok(await client.get(PROFILE, headers=user.headers))["first_name"] == "Ana"


async def test_second_create_profile_returns_exactly_400_profile_already_exists(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    ok(await client.post(PROFILE, json={"display_name": "Ana"}, headers=user.headers), 201)

    body = assert_problem(
        await client.post(PROFILE, json={"display_name": "Other"}, headers=user.headers), 400, "PROFILE_ALREADY_EXISTS"
    )

    assert "exists" in body["detail"].lower()
    assert ok(await client.get(PROFILE, headers=user.headers))["display_name"] == "Ana"


async def test_create_after_patch_created_the_profile_returns_400(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(PROFILE, json={"display_name": "Ana"}, headers=user.headers))

    assert_problem(await client.post(PROFILE, json={}, headers=user.headers), 400, "PROFILE_ALREADY_EXISTS")


async def test_profile_creation_assigns_an_eight_char_upper_hex_friend_code(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    ok(await client.post(PROFILE, json={}, headers=user.headers), 201)

    social = ok(await client.get(SOCIAL, headers=user.headers))

    assert re.fullmatch(r"[0-9A-F]{8}", social["friend_code"])


async def test_five_concurrent_creates_give_one_201_and_four_400(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    responses = await asyncio.gather(
        *(client.post(PROFILE, json={"display_name": f"Ana {n}"}, headers=user.headers) for n in range(5))
    )

    assert sorted(r.status_code for r in responses) == [201, 400, 400, 400, 400]
    for response in responses:
        if response.status_code == 400:
            assert_problem(response, 400, "PROFILE_ALREADY_EXISTS")
    assert await count_rows(app, "user_profiles", user.id) == 1
    assert await count_rows(app, "social_profiles", user.id) == 1
    winner = next(r for r in responses if r.status_code == 201).json()
    assert ok(await client.get(PROFILE, headers=user.headers))["display_name"] == winner["display_name"]


async def test_five_concurrent_first_goal_patches_all_succeed_with_one_row(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)

    responses = await asyncio.gather(
        *(client.patch(GOALS, json={"weekly_workout_goal": n}, headers=user.headers) for n in range(1, 6))
    )

    assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
    assert await count_rows(app, "user_goals", user.id) == 1
    assert await count_rows(app, "onboarding_status", user.id) == 1
    assert ok(await client.get(GOALS, headers=user.headers))["weekly_workout_goal"] in range(1, 6)


async def test_five_concurrent_first_profile_patches_all_succeed_with_one_row_and_one_friend_code(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)

    responses = await asyncio.gather(
        *(client.patch(PROFILE, json={"display_name": f"N{n}"}, headers=user.headers) for n in range(5))
    )

    assert [r.status_code for r in responses] == [200] * 5, [r.text for r in responses]
    assert await count_rows(app, "user_profiles", user.id) == 1
    assert await count_rows(app, "social_profiles", user.id) == 1


# PATCH semantics -------------------------------------------------------------------------------


async def test_patch_changes_only_the_fields_sent(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(PROFILE, json=FULL_PROFILE, headers=user.headers))

    body = ok(await client.patch(PROFILE, json={"height_cm": 170}, headers=user.headers))

    assert body["height_cm"] == 170
    for field, value in FULL_PROFILE.items():
        if field != "height_cm":
            assert body[field] == value, field
    assert ok(await client.get(PROFILE, headers=user.headers)) == body


async def test_patch_with_null_clears_nullable_fields(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(PROFILE, json=FULL_PROFILE, headers=user.headers))

    body = ok(
        await client.patch(PROFILE, json={"phone": None, "last_name": None, "gender": None}, headers=user.headers)
    )

    assert body["phone"] is None
    assert body["last_name"] is None
    assert body["gender"] is None
    assert body["first_name"] == "Ana"
    assert ok(await client.get(PROFILE, headers=user.headers))["phone"] is None


async def test_patch_updated_at_moves_with_the_clock(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    created = ok(await client.post(PROFILE, json={"display_name": "Ana"}, headers=user.headers), 201)
    clock.advance(minutes=5)

    updated = ok(await client.patch(PROFILE, json={"display_name": "Ana B"}, headers=user.headers))

    assert updated["created_at"] == created["created_at"]
    assert updated["updated_at"] != created["updated_at"]


async def test_avatar_url_sent_in_patch_is_ignored(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.post(PROFILE, json={"display_name": "Ana"}, headers=user.headers), 201)

    body = ok(
        await client.patch(
            PROFILE,
            json={"avatar_url": "https://cdn.example.com/avatars/someone-else.png", "display_name": "Ana B"},
            headers=user.headers,
        )
    )

    assert body["avatar_url"] is None
    assert body["display_name"] == "Ana B"
    assert ok(await client.get(PROFILE, headers=user.headers))["avatar_url"] is None


async def test_avatar_url_null_in_patch_does_not_clear_a_server_set_avatar(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    ok(await client.post(PROFILE, json={}, headers=user.headers), 201)
    url = "https://cdn.example.com/avatars/mine.png"
    await in_unit_of_work(
        app, lambda uow: profile_service(uow).set_avatar(UUID(user.id), url=url, key="avatars/mine.png")
    )

    body = ok(await client.patch(PROFILE, json={"avatar_url": None}, headers=user.headers))

    assert body["avatar_url"] == url


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("height_cm", 49.9),
        ("height_cm", 300.1),
        ("height_cm", "tall"),
        ("phone", "call me maybe"),
        ("phone", "+1" + "2" * 30),
        ("phone", "12<script>"),
        ("email", "not-an-email"),
        ("email", "a@"),
        ("date_of_birth", "2999-01-01"),
        ("date_of_birth", "1850-01-01"),
        ("date_of_birth", "17/05/1990"),
        ("gender", "robot"),
        ("display_name", "x" * 101),
        ("first_name", ["Ana"]),
    ],
)
async def test_invalid_profile_values_return_422_and_change_nothing(
    app: FastAPI, client: httpx.AsyncClient, field: str, value: Any
) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(PROFILE, json=FULL_PROFILE, headers=user.headers))

    body = assert_problem(await client.patch(PROFILE, json={field: value}, headers=user.headers), 422)

    assert body["errors"]
    assert field in body["errors"][0]["loc"]
    assert ok(await client.get(PROFILE, headers=user.headers))[field] == FULL_PROFILE[field]


async def test_date_of_birth_tomorrow_is_rejected(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    tomorrow = (date.today() + timedelta(days=1)).isoformat()

    assert_problem(await client.patch(PROFILE, json={"date_of_birth": tomorrow}, headers=user.headers), 422)


@pytest.mark.parametrize(("height", "phone"), [(50, "123"), (300, "+44 (20) 7946-0958")])
async def test_boundary_height_and_phone_formats_are_accepted(
    app: FastAPI, client: httpx.AsyncClient, height: int, phone: str
) -> None:
    user = await anonymous_user(app)

    body = ok(await client.patch(PROFILE, json={"height_cm": height, "phone": phone}, headers=user.headers))

    assert body["height_cm"] == height
    assert body["phone"] == phone


async def test_invalid_email_on_create_returns_422_and_creates_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    assert_problem(await client.post(PROFILE, json={"email": "nope"}, headers=user.headers), 422, "VALIDATION_ERROR")

    assert await count_rows(app, "user_profiles", user.id) == 0
