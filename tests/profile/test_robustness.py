"""Every profile endpoint needs a signed-in caller, and no input, however wrong, makes it fail
with a 500: bad input is always answered with a 4xx problem body."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel

from src.modules.account.routes import router as account_router
from src.modules.profile.models import (
    DietaryUpdate,
    GoalsUpdate,
    HealthUpdate,
    PreferencesUpdate,
    ProfileCreate,
    ProfileUpdate,
    SocialUpdate,
    WorkoutRestrictionsUpdate,
)
from src.modules.profile.routes import router
from tests.factories import anonymous_user
from tests.profile.helpers import (
    API,
    DIETARY,
    GOALS,
    HEALTH,
    PREFERENCES,
    PROFILE,
    PROFILE_TABLES,
    RESTRICTIONS,
    SOCIAL,
    assert_problem,
    count_rows,
    ok,
)

PATH_VALUES = {"code": "ABCDEF12", "step": "goals_set"}


def profile_endpoints() -> list[tuple[str, str]]:
    """(method, concrete path) of every route under /profile (the profile and account modules)."""
    found: list[tuple[str, str]] = []
    for route in [*router.routes, *account_router.routes]:
        assert isinstance(route, APIRoute)
        path = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], f"{API}{route.path}")
        found.extend((method, path) for method in sorted(route.methods))
    return found


async def test_every_profile_endpoint_requires_a_token(app: FastAPI, client: httpx.AsyncClient) -> None:
    endpoints = profile_endpoints()
    assert len(endpoints) == 26

    for method, path in endpoints:
        response = await client.request(method, path, params={"username": "someone", "confirm": "true"}, json={})
        assert_problem(response, 401, "UNAUTHORIZED")
        assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "authorization", ["Bearer not-a-token", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer a.b.c", "bearer" + " x" * 300]
)
async def test_a_bad_token_is_401_on_every_profile_endpoint(
    app: FastAPI, client: httpx.AsyncClient, authorization: str
) -> None:
    for method, path in profile_endpoints():
        response = await client.request(
            method,
            path,
            params={"username": "someone", "confirm": "true"},
            json={},
            headers={"Authorization": authorization},
        )
        assert_problem(response, 401, "UNAUTHORIZED")


async def test_unauthenticated_writes_store_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    await client.post(PROFILE, json={"display_name": "x"}, params={"identity_id": user.id})
    await client.patch(GOALS, json={"weekly_workout_goal": 2}, params={"identity_id": user.id})

    for table in PROFILE_TABLES:
        assert await count_rows(app, table, user.id) == 0


WRITES: list[tuple[str, str, type[BaseModel]]] = [
    ("POST", PROFILE, ProfileCreate),
    ("PATCH", PROFILE, ProfileUpdate),
    ("PATCH", GOALS, GoalsUpdate),
    ("PATCH", HEALTH, HealthUpdate),
    ("PATCH", DIETARY, DietaryUpdate),
    ("PATCH", RESTRICTIONS, WorkoutRestrictionsUpdate),
    ("PATCH", PREFERENCES, PreferencesUpdate),
    ("PATCH", SOCIAL, SocialUpdate),
]
WRITE_IDS = [f"{method} {path.removeprefix(PROFILE) or '/'}" for method, path, _ in WRITES]

# Values (as raw JSON) that no field of any section accepts.
JUNK_VALUES: list[str] = [
    json.dumps({"nested": [1, {"deeper": None}]}),
    json.dumps([[["deep"]], {"x": 1}]),
    json.dumps("x" * 5000),
    json.dumps("\u0000"),
    json.dumps("ok\u0000bad"),
    '"lone \\ud800 surrogate"',
    str(-(10**30)),
    str(10**30),
    "1e999",
    json.dumps("<script>alert(1)</script>" * 50),
]


@pytest.mark.parametrize(("method", "path", "model"), WRITES, ids=WRITE_IDS)
async def test_junk_in_any_field_is_a_4xx_problem_never_a_500(
    app: FastAPI, client: httpx.AsyncClient, method: str, path: str, model: type[BaseModel]
) -> None:
    user = await anonymous_user(app)
    headers = {**user.headers, "Content-Type": "application/json"}
    for field in model.model_fields:
        if field == "avatar_url":  # ignored, whatever it holds
            continue
        for value in JUNK_VALUES:
            content = f'{{"{field}": {value}}}'
            response = await client.request(method, path, content=content, headers=headers)
            assert 400 <= response.status_code < 500, (field, value[:40], response.status_code, response.text)
            assert_problem(response, response.status_code)


@pytest.mark.parametrize(("method", "path", "model"), WRITES, ids=WRITE_IDS)
async def test_list_fields_reject_junk_items(
    app: FastAPI, client: httpx.AsyncClient, method: str, path: str, model: type[BaseModel]
) -> None:
    user = await anonymous_user(app)
    headers = {**user.headers, "Content-Type": "application/json"}
    for field in model.model_fields:
        for items in (["ok", "bad\u0000"], ["\ud800"], [{"a": 1}], [None], ["x" * 5000], list(range(1000))):
            content = json.dumps({field: items})  # ASCII: the lone surrogate travels as an escape
            response = await client.request(method, path, content=content, headers=headers)
            assert 400 <= response.status_code < 500, (field, items[:3], response.status_code, response.text)
            assert_problem(response, response.status_code)


@pytest.mark.parametrize(("method", "path", "model"), WRITES, ids=WRITE_IDS)
@pytest.mark.parametrize(
    "content",
    [b"[]", b'"text"', b"42", b"null", b"{not json", b"[" * 100_000, b"\xff\xfe", b'{"a": 1, "a": {"b": [}'],
    ids=["list", "string", "number", "null", "broken", "deeply-nested", "not-utf8", "truncated"],
)
async def test_a_body_that_is_not_an_object_is_a_4xx_problem(
    app: FastAPI, client: httpx.AsyncClient, method: str, path: str, model: type[BaseModel], content: bytes
) -> None:
    user = await anonymous_user(app)

    response = await client.request(
        method, path, content=content, headers={**user.headers, "Content-Type": "application/json"}
    )

    assert 400 <= response.status_code < 500, response.text
    assert_problem(response, response.status_code)


@pytest.mark.parametrize(("method", "path", "model"), WRITES, ids=WRITE_IDS)
async def test_unknown_fields_are_ignored_and_do_not_fail(
    app: FastAPI, client: httpx.AsyncClient, method: str, path: str, model: type[BaseModel]
) -> None:
    user = await anonymous_user(app)

    response = await client.request(
        method,
        path,
        json={"identity_id": "00000000-0000-0000-0000-000000000000", "friend_code": "AAAAAAAA", "junk": [1]},
        headers=user.headers,
    )

    assert response.status_code in (200, 201), response.text
    assert response.json()["identity_id"] == user.id
    if path == SOCIAL:
        assert response.json()["friend_code"] != "AAAAAAAA"


async def test_nul_characters_in_text_fields_are_rejected_with_422(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.post(PROFILE, json={"display_name": "Ana"}, headers=user.headers), 201)

    for path, body in [
        (PROFILE, {"display_name": "An\u0000a"}),
        (HEALTH, {"condition_notes": "note\u0000"}),
        (DIETARY, {"allergies": ["nu\u0000ts"]}),
        (RESTRICTIONS, {"injury_notes": "\u0000"}),
        (SOCIAL, {"bio": "b\u0000io"}),
        (PREFERENCES, {"preferred_workout_time": "morn\u0000ing"}),
    ]:
        assert_problem(await client.patch(path, json=body, headers=user.headers), 422, "VALIDATION_ERROR")

    assert ok(await client.get(PROFILE, headers=user.headers))["display_name"] == "Ana"


async def test_junk_query_parameters_are_4xx_not_500(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.post(PROFILE, json={}, headers=user.headers), 201)

    for path, params in [
        (f"{SOCIAL}/check-username", {"username": "bad\u0000name"}),
        (f"{SOCIAL}/check-username", {"username": "x" * 5000}),
        (f"{PROFILE}/export", {"format": "\u0000"}),
    ]:
        response = await client.get(path, params=params, headers=user.headers)
        assert_problem(response, 422)
    response = await client.delete(f"{PROFILE}/all-data", params={"confirm": "yes please"}, headers=user.headers)
    assert_problem(response, 422)
    assert ok(await client.get(PROFILE, headers=user.headers))["identity_id"] == user.id
    long_code = await client.get(f"{SOCIAL}/friend-code/{'A' * 500}", headers=user.headers)
    assert 400 <= long_code.status_code < 500
