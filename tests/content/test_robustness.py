"""No input reaches a 500: malformed ids, wrong types, huge numbers, odd strings and bodies all
get a problem answer (or an ordinary result), on every content route."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.content.helpers import (
    CATEGORIES,
    EXERCISES,
    HISTORY,
    RECIPES,
    RECOMMENDATIONS,
    SAVED,
    SAVED_LIST,
    SESSIONS,
    WORKOUTS,
    assert_problem,
    start,
    workout_named,
)
from tests.factories import anonymous_user

HUGE = str(10**40)
ODD_STRINGS = ["'; DROP TABLE workouts; --", "\\", "%_%", "💪🏽", "ß" * 100, "\u202e"]

PUBLIC_GETS: list[tuple[str, dict[str, Any] | list[tuple[str, str]]]] = [
    (f"{WORKOUTS}/not-a-uuid", {}),
    (f"{WORKOUTS}/{HUGE}", {}),
    (f"{WORKOUTS}/{uuid.UUID(int=9)}x", {}),
    (f"{CATEGORIES}/%00", {}),
    (f"{RECIPES}/../../etc/passwd", {}),
    (f"{RECIPES}/{HUGE}", {}),
    (WORKOUTS, {"limit": HUGE}),
    (WORKOUTS, {"offset": HUGE}),
    (WORKOUTS, {"min_duration": HUGE}),
    (WORKOUTS, {"max_duration": "-" + HUGE}),
    (WORKOUTS, {"limit": "1e3"}),
    (WORKOUTS, {"limit": "NaN"}),
    (WORKOUTS, {"search": "x" * 5000}),
    (WORKOUTS, {"body_focus": "x" * 500}),
    (WORKOUTS, {"category_id": HUGE}),
    (WORKOUTS, {"workout_type": ["hiit", "yoga"]}),
    (f"{WORKOUTS}/{uuid.UUID(int=5)}", {"include_exercises": "maybe"}),
    (EXERCISES, {"limit": HUGE}),
    (EXERCISES, {"equipment_required": "x" * 500}),
    (RECIPES, {"max_calories": HUGE}),
    (RECIPES, {"min_protein": "inf"}),
    (RECIPES, {"min_protein": "nan"}),
    (RECIPES, {"max_prep_time": "-1"}),
    (RECIPES, {"diet_tags": "x" * 1000}),
    (RECIPES, {"offset": HUGE}),
]


@pytest.mark.parametrize(("path", "params"), PUBLIC_GETS)
async def test_bad_catalogue_queries_get_a_problem_answer_not_a_500(
    client: httpx.AsyncClient, path: str, params: Any
) -> None:
    response = await client.get(path, params=params)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("text", ODD_STRINGS)
@pytest.mark.parametrize("path", [WORKOUTS, EXERCISES, RECIPES])
async def test_odd_search_strings_are_searched_for_literally(client: httpx.AsyncClient, path: str, text: str) -> None:
    response = await client.get(path, params={"search": text})
    assert response.status_code == 200, response.text
    assert response.json() == []


@pytest.mark.parametrize("path", [WORKOUTS, EXERCISES, RECIPES])
async def test_a_blank_search_is_no_search(client: httpx.AsyncClient, path: str) -> None:
    everything = (await client.get(path)).json()
    assert (await client.get(path, params={"search": " \t"})).json() == everything


@pytest.mark.parametrize("text", ["\x00", "squat\x00"])
@pytest.mark.parametrize(
    ("path", "name"),
    [(WORKOUTS, "search"), (EXERCISES, "search"), (EXERCISES, "equipment_required"), (RECIPES, "search")],
)
async def test_a_nul_character_in_free_text_returns_422(
    client: httpx.AsyncClient, path: str, name: str, text: str
) -> None:
    assert_problem(await client.get(path, params={name: text}), 422)


BAD_BODIES: list[Any] = [
    None,
    [],
    "workout",
    {"workout_id": 123},
    {"workout_id": HUGE},
    {"workout_id": None},
    {"workout_id": "not-a-uuid"},
    {"workout_id": {"$ne": None}},
    {},
]


@pytest.mark.parametrize("body", BAD_BODIES)
async def test_bad_session_start_bodies_return_422(app: FastAPI, client: httpx.AsyncClient, body: Any) -> None:
    user = await anonymous_user(app)
    assert_problem(await client.post(SESSIONS, headers=user.headers, json=body), 422)


async def test_a_non_json_session_start_body_returns_422(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        SESSIONS, headers={**user.headers, "Content-Type": "application/json"}, content=b"{not json"
    )
    assert_problem(response, 422)


@pytest.mark.parametrize(
    "body",
    [
        {"calories_burned": -1},
        {"calories_burned": 10**30},
        {"calories_burned": "lots"},
        {"calories_burned": 1.5e308},
        [1, 2],
        "done",
    ],
)
async def test_bad_completion_bodies_return_422_and_leave_the_session_running(
    app: FastAPI, client: httpx.AsyncClient, body: Any
) -> None:
    user = await anonymous_user(app)
    session = await start(client, user, (await workout_named(client, "Quick HIIT Blast"))["id"])
    assert_problem(await client.post(f"{SESSIONS}/{session['id']}/complete", headers=user.headers, json=body), 422)
    active = (await client.get(f"{SESSIONS}/active", headers=user.headers)).json()
    assert active["id"] == session["id"]


async def test_completion_without_a_body_is_accepted(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    session = await start(client, user, (await workout_named(client, "Quick HIIT Blast"))["id"])
    response = await client.post(f"{SESSIONS}/{session['id']}/complete", headers=user.headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "not_credited"  # completed at once: too short to count


@pytest.mark.parametrize(
    ("method", "path", "params"),
    [
        ("POST", f"{SESSIONS}/not-a-uuid/complete", {}),
        ("POST", f"{SESSIONS}/{HUGE}/abandon", {}),
        ("POST", f"{WORKOUTS}/nope/rating", {}),
        ("DELETE", f"{SAVED}/nope", {}),
        ("GET", HISTORY, {"limit": HUGE}),
        ("GET", HISTORY, {"offset": "-1"}),
        ("GET", SAVED_LIST, {"limit": "0"}),
        ("GET", RECOMMENDATIONS, {"limit": HUGE}),
    ],
)
async def test_bad_ids_and_values_on_personal_routes_return_422(
    app: FastAPI, client: httpx.AsyncClient, method: str, path: str, params: dict[str, str]
) -> None:
    user = await anonymous_user(app)
    response = await client.request(method, path, headers=user.headers, params=params, json={"rating": 3})
    assert_problem(response, 422)


@pytest.mark.parametrize("body", [{"recipe_id": 1}, {"recipe_id": "x"}, {}, [], {"recipe_id": HUGE}])
async def test_bad_save_bodies_return_422(app: FastAPI, client: httpx.AsyncClient, body: Any) -> None:
    user = await anonymous_user(app)
    assert_problem(await client.post(SAVED, headers=user.headers, json=body), 422)


async def test_a_random_uuid_for_unsaving_returns_a_problem_not_a_500(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.delete(f"{SAVED}/{uuid.uuid4()}", headers=user.headers)
    assert response.status_code in (204, 404), response.text
