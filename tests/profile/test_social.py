"""Social profile: case-insensitive unique usernames, friend codes, and lookups that need a
signed-in caller, respect privacy and are rate limited."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest
from fastapi import FastAPI

from src.modules.profile import profile_service
from tests.factories import User, anonymous_user
from tests.profile.helpers import (
    API,
    CHECK_USERNAME,
    FRIEND_CODE,
    PROFILE,
    SOCIAL,
    assert_problem,
    count_rows,
    in_unit_of_work,
    ok,
)


async def with_profile(app: FastAPI, client: httpx.AsyncClient, **profile: object) -> tuple[User, str]:
    """A user with a created profile, and their friend code."""
    user = await anonymous_user(app)
    ok(await client.post(PROFILE, json=profile, headers=user.headers), 201)
    return user, ok(await client.get(SOCIAL, headers=user.headers))["friend_code"]


# Usernames -------------------------------------------------------------------------------------


async def test_username_is_saved_as_typed(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    body = ok(await client.patch(SOCIAL, json={"username": "Ana.Fit_90"}, headers=user.headers))

    assert body["username"] == "Ana.Fit_90"
    assert ok(await client.get(SOCIAL, headers=user.headers))["username"] == "Ana.Fit_90"


async def test_username_taken_in_another_case_returns_409(app: FastAPI, client: httpx.AsyncClient) -> None:
    bob = await anonymous_user(app)
    other = await anonymous_user(app)
    ok(await client.patch(SOCIAL, json={"username": "Bob"}, headers=bob.headers))

    assert_problem(await client.patch(SOCIAL, json={"username": "bob"}, headers=other.headers), 409, "USERNAME_TAKEN")

    assert ok(await client.get(SOCIAL, headers=other.headers))["username"] is None
    assert ok(await client.get(SOCIAL, headers=bob.headers))["username"] == "Bob"


async def test_rejected_username_does_not_save_other_fields_of_the_same_patch(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    bob = await anonymous_user(app)
    other = await anonymous_user(app)
    ok(await client.patch(SOCIAL, json={"username": "Bob"}, headers=bob.headers))

    assert_problem(await client.patch(SOCIAL, json={"username": "BOB", "bio": "hello"}, headers=other.headers), 409)

    assert ok(await client.get(SOCIAL, headers=other.headers))["bio"] is None


@pytest.mark.parametrize("again", ["Bob", "bob", "BOB"])
async def test_resaving_your_own_username_in_any_case_is_fine(
    app: FastAPI, client: httpx.AsyncClient, again: str
) -> None:
    bob = await anonymous_user(app)
    ok(await client.patch(SOCIAL, json={"username": "Bob"}, headers=bob.headers))

    body = ok(await client.patch(SOCIAL, json={"username": again, "bio": "hi"}, headers=bob.headers))

    assert body["username"] == again
    assert body["bio"] == "hi"


async def test_a_released_username_can_be_claimed_by_someone_else(app: FastAPI, client: httpx.AsyncClient) -> None:
    bob = await anonymous_user(app)
    other = await anonymous_user(app)
    ok(await client.patch(SOCIAL, json={"username": "Bob"}, headers=bob.headers))
    ok(await client.patch(SOCIAL, json={"username": "Robert"}, headers=bob.headers))

    assert ok(await client.patch(SOCIAL, json={"username": "bob"}, headers=other.headers))["username"] == "bob"


async def test_two_concurrent_claims_of_one_username_in_different_case_give_one_200_and_one_409(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    first = await anonymous_user(app)
    second = await anonymous_user(app)

    responses = await asyncio.gather(
        client.patch(SOCIAL, json={"username": "Zoe"}, headers=first.headers),
        client.patch(SOCIAL, json={"username": "zoe"}, headers=second.headers),
    )

    assert sorted(r.status_code for r in responses) == [200, 409], [r.text for r in responses]
    assert_problem(next(r for r in responses if r.status_code == 409), 409, "USERNAME_TAKEN")
    owners = [
        user
        for user in (first, second)
        if (ok(await client.get(SOCIAL, headers=user.headers))["username"] or "").lower() == "zoe"
    ]
    assert len(owners) == 1


async def test_username_null_clears_it(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(SOCIAL, json={"username": "Ana"}, headers=user.headers))

    assert ok(await client.patch(SOCIAL, json={"username": None}, headers=user.headers))["username"] is None
    assert ok(await client.get(f"{CHECK_USERNAME}?username=ana", headers=(await anonymous_user(app)).headers))[
        "available"
    ]


@pytest.mark.parametrize("username", ["ab", "x" * 31, "has space", "emoji🙂", "semi;colon", "a/b"])
async def test_invalid_username_in_patch_returns_422(app: FastAPI, client: httpx.AsyncClient, username: str) -> None:
    user = await anonymous_user(app)

    body = assert_problem(await client.patch(SOCIAL, json={"username": username}, headers=user.headers), 422)

    assert "username" in body["errors"][0]["loc"]


async def test_bio_and_privacy_flags_patch_only_what_is_sent(app: FastAPI, client: httpx.AsyncClient) -> None:
    user, code = await with_profile(app, client)
    ok(await client.patch(SOCIAL, json={"bio": "Runner", "show_weight": True}, headers=user.headers))

    body = ok(await client.patch(SOCIAL, json={"profile_public": True, "show_level": None}, headers=user.headers))

    assert body["bio"] == "Runner"
    assert body["show_weight"] is True
    assert body["profile_public"] is True
    assert body["show_level"] is True
    assert body["friend_code"] == code


async def test_social_patch_before_profile_creation_assigns_a_friend_code(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)

    body = ok(await client.patch(SOCIAL, json={"bio": "hi"}, headers=user.headers))

    assert len(body["friend_code"]) == 8
    assert await count_rows(app, "social_profiles", user.id) == 1


# Username availability -------------------------------------------------------------------------


async def test_check_username_requires_a_signed_in_caller(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{CHECK_USERNAME}?username=anyone"), 401, "UNAUTHORIZED")


@pytest.mark.parametrize("asked", ["Bob", "bob", "BOB", " bob "])
async def test_check_username_is_case_insensitive(app: FastAPI, client: httpx.AsyncClient, asked: str) -> None:
    bob = await anonymous_user(app)
    other = await anonymous_user(app)
    ok(await client.patch(SOCIAL, json={"username": "Bob"}, headers=bob.headers))

    body = ok(await client.get(CHECK_USERNAME, params={"username": asked}, headers=other.headers))

    assert body["available"] is False


async def test_check_username_reports_a_free_name_as_available(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    assert ok(await client.get(CHECK_USERNAME, params={"username": "nobody_yet"}, headers=user.headers))["available"]


async def test_your_own_username_counts_as_available(app: FastAPI, client: httpx.AsyncClient) -> None:
    bob = await anonymous_user(app)
    ok(await client.patch(SOCIAL, json={"username": "Bob"}, headers=bob.headers))

    assert ok(await client.get(CHECK_USERNAME, params={"username": "BOB"}, headers=bob.headers))["available"] is True


@pytest.mark.parametrize("username", ["ab", "has space", "x" * 31, "drop;table"])
async def test_check_username_with_invalid_format_returns_422(
    app: FastAPI, client: httpx.AsyncClient, username: str
) -> None:
    user = await anonymous_user(app)

    assert_problem(await client.get(CHECK_USERNAME, params={"username": username}, headers=user.headers), 422)


async def test_check_username_without_the_parameter_returns_422(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    assert_problem(await client.get(CHECK_USERNAME, headers=user.headers), 422, "VALIDATION_ERROR")


async def test_find_by_username_interface_is_case_insensitive(app: FastAPI, client: httpx.AsyncClient) -> None:
    bob = await anonymous_user(app)
    ok(await client.patch(SOCIAL, json={"username": "Bob"}, headers=bob.headers))

    found = await in_unit_of_work(app, lambda uow: profile_service(uow).find_by_username("bOB"))

    assert found == uuid.UUID(bob.id)


# Friend codes ----------------------------------------------------------------------------------


async def test_friend_code_lookup_requires_a_signed_in_caller(app: FastAPI, client: httpx.AsyncClient) -> None:
    _, code = await with_profile(app, client)

    assert_problem(await client.get(f"{FRIEND_CODE}/{code}"), 401, "UNAUTHORIZED")


async def test_friend_code_lookup_of_a_private_profile_reveals_only_the_handle(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner, code = await with_profile(app, client, display_name="Secret Sam")
    ok(
        await client.patch(
            SOCIAL, json={"username": "sam", "bio": "private bio", "show_weight": True}, headers=owner.headers
        )
    )
    viewer = await anonymous_user(app)

    body = ok(await client.get(f"{FRIEND_CODE}/{code}", headers=viewer.headers))

    assert body["identity_id"] is None  # the code cannot be traded for the person's id
    assert owner.id not in str(body)
    assert body["username"] == "sam"
    assert body["friend_code"] == code
    assert body["profile_public"] is False
    assert body["bio"] is None
    assert body["display_name"] is None
    assert body["avatar_url"] is None
    flags = ["show_streaks", "show_achievements", "show_level", "show_workouts", "show_weight"]
    assert [body[f] for f in flags] == [False] * 5
    assert "friends_count" not in body
    assert "Secret Sam" not in str(body)
    # The owner sees their own id; the stranger can still ask by the code, and the owner sees who asked.
    assert ok(await client.get(f"{FRIEND_CODE}/{code}", headers=owner.headers))["identity_id"] == owner.id
    asked = ok(
        await client.post(f"{API}/social/friends/request", json={"friend_code": code}, headers=viewer.headers), 201
    )
    assert asked["status"] == "pending"
    incoming = ok(await client.get(f"{API}/social/friends/requests/incoming", headers=owner.headers))
    assert [r["friend_id"] for r in incoming] == [viewer.id]


async def test_friend_code_lookup_of_a_public_profile_shows_bio_name_and_flags_as_set(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    owner, code = await with_profile(app, client, display_name="Open Olga")
    ok(
        await client.patch(
            SOCIAL,
            json={"profile_public": True, "bio": "Loves HIIT", "show_level": False, "show_workouts": True},
            headers=owner.headers,
        )
    )
    viewer = await anonymous_user(app)

    body = ok(await client.get(f"{FRIEND_CODE}/{code}", headers=viewer.headers))

    assert body["identity_id"] == owner.id
    assert body["profile_public"] is True
    assert body["bio"] == "Loves HIIT"
    assert body["display_name"] == "Open Olga"
    assert body["show_streaks"] is True
    assert body["show_achievements"] is True
    assert body["show_level"] is False
    assert body["show_workouts"] is True
    assert body["show_weight"] is False


async def test_friend_code_lookup_is_case_insensitive(app: FastAPI, client: httpx.AsyncClient) -> None:
    owner, code = await with_profile(app, client)
    ok(await client.patch(SOCIAL, json={"profile_public": True}, headers=owner.headers))
    viewer = await anonymous_user(app)

    body = ok(await client.get(f"{FRIEND_CODE}/{code.lower()}", headers=viewer.headers))

    assert body["identity_id"] == owner.id


@pytest.mark.parametrize("code", ["00000000", "ZZZZZZZZ", "abc", "A%00B", "%20"])
async def test_unknown_friend_code_returns_404(app: FastAPI, client: httpx.AsyncClient, code: str) -> None:
    await with_profile(app, client)
    viewer = await anonymous_user(app)

    assert_problem(await client.get(f"{FRIEND_CODE}/{code}", headers=viewer.headers), 404, "FRIEND_CODE_NOT_FOUND")


async def test_find_by_friend_code_interface_returns_the_owner(app: FastAPI, client: httpx.AsyncClient) -> None:
    owner, code = await with_profile(app, client)

    found = await in_unit_of_work(app, lambda uow: profile_service(uow).find_by_friend_code(code.lower()))

    assert found == uuid.UUID(owner.id)


async def test_every_profile_gets_its_own_friend_code(app: FastAPI, client: httpx.AsyncClient) -> None:
    codes = {(await with_profile(app, client))[1] for _ in range(5)}

    assert len(codes) == 5


# Rate limit ------------------------------------------------------------------------------------


async def _within_one_minute(burst: Callable[[], Awaitable[list[httpx.Response]]]) -> list[httpx.Response]:
    """Run the burst inside one fixed rate-limit window (retried once if it straddled a minute)."""
    for _ in range(2):
        window = int(time.time() // 60)
        responses = await burst()
        if int(time.time() // 60) == window:
            return responses
    raise AssertionError("could not run the burst inside one rate-limit window")


async def test_twenty_first_username_check_in_a_minute_returns_429(app: FastAPI, client: httpx.AsyncClient) -> None:
    async def burst() -> list[httpx.Response]:
        user = await anonymous_user(app)
        return [
            await client.get(CHECK_USERNAME, params={"username": f"name{n}"}, headers=user.headers) for n in range(21)
        ]

    responses = await _within_one_minute(burst)

    assert [r.status_code for r in responses[:20]] == [200] * 20
    assert_problem(responses[20], 429, "RATE_LIMITED")
    assert int(responses[20].headers["retry-after"]) >= 1


async def test_twenty_first_friend_code_lookup_in_a_minute_returns_429(app: FastAPI, client: httpx.AsyncClient) -> None:
    _, code = await with_profile(app, client)

    async def burst() -> list[httpx.Response]:
        user = await anonymous_user(app)
        return [await client.get(f"{FRIEND_CODE}/{code}", headers=user.headers) for _ in range(21)]

    responses = await _within_one_minute(burst)

    assert [r.status_code for r in responses[:20]] == [200] * 20
    assert_problem(responses[20], 429, "RATE_LIMITED")


async def test_friend_code_guessing_is_rate_limited_too(app: FastAPI, client: httpx.AsyncClient) -> None:
    async def burst() -> list[httpx.Response]:
        user = await anonymous_user(app)
        return [await client.get(f"{FRIEND_CODE}/{n:08X}", headers=user.headers) for n in range(21)]

    responses = await _within_one_minute(burst)

    assert [r.status_code for r in responses[:20]] == [404] * 20
    assert_problem(responses[20], 429, "RATE_LIMITED")
