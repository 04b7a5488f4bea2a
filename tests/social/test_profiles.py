"""Public profiles and search honour the profile module's privacy flags and blocks."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.social.helpers import (
    FRIENDS,
    PROFILE_SOCIAL,
    SEARCH,
    SOCIAL,
    assert_problem,
    befriend,
    log_fast,
    ok,
    person,
    utc,
)


async def test_search_is_reachable_case_insensitive_and_lists_public_profiles_only(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    me, _ = await person(app, client, "searcher")
    await person(app, client, "RunnerRita", display_name="Rita")
    await person(app, client, "runner_private", public=False)
    await person(app, client, "walker", display_name="Runner Walt")

    found = ok(await client.get(SEARCH, params={"query": "RUNNER"}, headers=me.headers))
    assert sorted(r["username"] for r in found) == ["RunnerRita", "walker"]
    assert_problem(await client.get(SEARCH, params={"query": "r"}, headers=me.headers), 422, "SEARCH_QUERY_TOO_SHORT")


async def test_search_takes_wildcards_literally(app: FastAPI, client: httpx.AsyncClient) -> None:
    me, _ = await person(app, client, "searcher")
    await person(app, client, "abc_def")
    await person(app, client, "abcxdef")
    found = ok(await client.get(SEARCH, params={"query": "c_d"}, headers=me.headers))
    assert [r["username"] for r in found] == ["abc_def"]
    assert ok(await client.get(SEARCH, params={"query": "%%"}, headers=me.headers)) == []


async def test_blocked_people_never_find_each_other(app: FastAPI, client: httpx.AsyncClient) -> None:
    me, _ = await person(app, client, "searcher")
    other, _ = await person(app, client, "target_person")
    assert (await client.post(f"{FRIENDS}/{me.id}/block", headers=other.headers)).status_code == 204
    assert ok(await client.get(SEARCH, params={"query": "target"}, headers=me.headers)) == []
    assert_problem(await client.get(f"{SOCIAL}/users/{other.id}", headers=me.headers), 404)


async def test_private_profile_shows_a_stranger_only_the_username(app: FastAPI, client: httpx.AsyncClient) -> None:
    viewer, _ = await person(app, client, "viewer")
    owner, owner_social = await person(app, client, "hidden", public=False, display_name="Hidden Hal", bio="secret")
    await log_fast(client, owner, utc(3, 9, 0), utc(3, 9, 16))

    seen = ok(await client.get(f"{SOCIAL}/users/{owner.id}", headers=viewer.headers))
    assert seen["username"] == "hidden"
    assert seen["display_name"] is None
    assert seen["bio"] is None
    assert seen["level"] is None
    assert seen["streaks"] is None
    assert seen["achievements_count"] is None

    viewer_code = ok(await client.get(PROFILE_SOCIAL, headers=viewer.headers))["friend_code"]
    await befriend(client, owner, viewer, viewer_code)
    as_friend = ok(await client.get(f"{SOCIAL}/users/{owner.id}", headers=viewer.headers))
    assert as_friend["display_name"] == "Hidden Hal"
    assert as_friend["is_friend"] is True
    assert as_friend["friendship_status"] == "accepted"
    assert as_friend["level"] >= 1
    assert as_friend["streaks"]["fasting"] == 1
    assert as_friend["achievements_count"] >= 1
    assert owner_social["friend_code"]


async def test_each_privacy_flag_hides_its_part_of_a_public_profile(app: FastAPI, client: httpx.AsyncClient) -> None:
    viewer, _ = await person(app, client, "viewer")
    owner, _ = await person(
        app, client, "open_owner", show_level=False, show_streaks=False, show_achievements=True, bio="hello"
    )
    seen = ok(await client.get(f"{SOCIAL}/users/{owner.id}", headers=viewer.headers))
    assert seen["bio"] == "hello"
    assert seen["level"] is None
    assert seen["streaks"] is None
    assert seen["achievements_count"] == 0
    ok(await client.post(f"{SOCIAL}/follow/{owner.id}", headers=viewer.headers), 201)
    seen = ok(await client.get(f"{SOCIAL}/users/{owner.id}", headers=viewer.headers))
    assert seen["is_following"] is True
    assert seen["followers_count"] == 1


async def test_a_private_profile_cannot_be_followed_by_a_stranger(app: FastAPI, client: httpx.AsyncClient) -> None:
    viewer, _ = await person(app, client, "viewer")
    owner, _ = await person(app, client, "closed", public=False)
    assert_problem(
        await client.post(f"{SOCIAL}/follow/{owner.id}", headers=viewer.headers), 409, "PROFILE_NOT_FOLLOWABLE"
    )
