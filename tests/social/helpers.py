"""Shared by the social tests: routes, people with social profiles, and ways to drive the facts
challenges and boards are made of (fasts through the time keeper API, workouts and weigh-ins as the
content and metrics modules publish them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI

from tests.factories import User, anonymous_user

# The shared answer checks and activity drivers, re-exported for the tests of this package.
from tests.http import assert_problem as assert_problem
from tests.http import ok as ok
from tests.progression.helpers import complete_workout as complete_workout
from tests.progression.helpers import log_fast as log_fast
from tests.progression.helpers import log_weight as log_weight
from tests.progression.helpers import publish as publish

API = "/api/v1"
SOCIAL = f"{API}/social"
FRIEND_REQUEST = f"{SOCIAL}/friends/request"
INCOMING = f"{SOCIAL}/friends/requests/incoming"
OUTGOING = f"{SOCIAL}/friends/requests/outgoing"
FRIENDS = f"{SOCIAL}/friends"
FOLLOWERS = f"{SOCIAL}/followers"
FOLLOWING = f"{SOCIAL}/following"
SEARCH = f"{SOCIAL}/users/search"
CHALLENGES = f"{SOCIAL}/challenges"
SHARE = f"{SOCIAL}/share/generate"
PROFILE_SOCIAL = f"{API}/profile/social"
PROFILE = f"{API}/profile"


def utc(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


async def person(
    app: FastAPI,
    client: httpx.AsyncClient,
    username: str,
    *,
    public: bool = True,
    display_name: str | None = None,
    **flags: Any,
) -> tuple[User, dict[str, Any]]:
    """A signed-in person with a social profile; returns the user and their social profile."""
    user = await anonymous_user(app)
    if display_name is not None:
        ok(await client.post(PROFILE, json={"display_name": display_name}, headers=user.headers), 201)
    social = ok(
        await client.patch(
            PROFILE_SOCIAL, json={"username": username, "profile_public": public, **flags}, headers=user.headers
        )
    )
    return user, social


async def counters(client: httpx.AsyncClient, user: User) -> tuple[int, int, int]:
    social = ok(await client.get(PROFILE_SOCIAL, headers=user.headers))
    return social["friends_count"], social["followers_count"], social["following_count"]


async def befriend(client: httpx.AsyncClient, a: User, b: User, b_code: str) -> dict[str, Any]:
    request = ok(await client.post(FRIEND_REQUEST, json={"friend_code": b_code}, headers=a.headers), 201)
    accepted: dict[str, Any] = ok(
        await client.post(f"{FRIENDS}/requests/{request['id']}/respond", json={"accept": True}, headers=b.headers)
    )
    return accepted


async def board(client: httpx.AsyncClient, user: User, kind: str, **params: Any) -> dict[str, Any]:
    body: dict[str, Any] = ok(await client.get(f"{SOCIAL}/leaderboards/{kind}", params=params, headers=user.headers))
    return body


async def create_challenge(client: httpx.AsyncClient, user: User, **fields: Any) -> dict[str, Any]:
    body = {
        "name": "March fasting",
        "challenge_type": "fasting_streak",
        "goal_value": 3,
        "start_date": "2026-03-10",
        "end_date": "2026-03-20",
        **fields,
    }
    created: dict[str, Any] = ok(await client.post(CHALLENGES, json=body, headers=user.headers), 201)
    return created
