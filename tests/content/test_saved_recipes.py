"""Saving recipes: idempotent save (201 then 200) and unsave (always 204), one row per person and
recipe and a true `times_saved` also under concurrent requests, the saved list newest first, and
journal events."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.content.helpers import (
    RECIPES,
    SAVED,
    SAVED_LIST,
    assert_problem,
    count_rows,
    events_of,
    ok,
    recipe_named,
)
from tests.factories import User, anonymous_user, fresh_token


async def times_saved(client: httpx.AsyncClient, recipe_id: str) -> int:
    return int(ok(await client.get(f"{RECIPES}/{recipe_id}"))["times_saved"])


async def save(client: httpx.AsyncClient, user: User, recipe_id: str) -> httpx.Response:
    return await client.post(SAVED, headers=user.headers, json={"recipe_id": recipe_id})


async def unsave(client: httpx.AsyncClient, user: User, recipe_id: str) -> httpx.Response:
    return await client.delete(f"{SAVED}/{recipe_id}", headers=user.headers)


@pytest.mark.parametrize(
    ("method", "path"), [("POST", SAVED), ("DELETE", f"{SAVED}/{uuid.UUID(int=7)}"), ("GET", SAVED_LIST)]
)
async def test_saved_recipe_routes_need_a_signed_in_caller(client: httpx.AsyncClient, method: str, path: str) -> None:
    response = await client.request(method, path, json={"recipe_id": str(uuid.UUID(int=7))})
    assert_problem(response, 401)


async def test_saving_a_recipe_returns_201_with_the_entry(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    recipe = await recipe_named(client, "Quinoa Buddha Bowl")
    body = ok(await save(client, user, recipe["id"]), 201)
    assert body["recipe_id"] == recipe["id"]
    assert body["identity_id"] == user.id
    assert body["saved_at"].endswith(("Z", "+00:00"))
    assert body["recipe"]["name"] == "Quinoa Buddha Bowl"
    assert body["recipe"]["is_saved"] is True
    assert await times_saved(client, recipe["id"]) == 1


async def test_saving_again_returns_200_and_counts_once(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    recipe = await recipe_named(client, "Quinoa Buddha Bowl")
    first = ok(await save(client, user, recipe["id"]), 201)
    again = ok(await save(client, user, recipe["id"]), 200)
    assert again["id"] == first["id"]
    assert again["saved_at"] == first["saved_at"]
    assert await times_saved(client, recipe["id"]) == 1
    assert await count_rows(app, "user_saved_recipes", user.id) == 1


async def test_saving_an_unknown_recipe_returns_404(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert_problem(await save(client, user, str(uuid.uuid4())), 404, "RECIPE_NOT_FOUND")
    assert await count_rows(app, "user_saved_recipes", user.id) == 0


async def test_unsaving_removes_the_entry_and_the_count(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    recipe = await recipe_named(client, "Quinoa Buddha Bowl")
    ok(await save(client, user, recipe["id"]), 201)
    response = await unsave(client, user, recipe["id"])
    assert response.status_code == 204
    assert response.content == b""
    assert await times_saved(client, recipe["id"]) == 0
    assert ok(await client.get(SAVED_LIST, headers=user.headers)) == []
    assert (await recipe_named(client, "Quinoa Buddha Bowl", user))["is_saved"] is False


async def test_unsaving_a_recipe_never_saved_returns_204_and_keeps_the_count(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    saver, other = await anonymous_user(app), await anonymous_user(app)
    recipe = await recipe_named(client, "Quinoa Buddha Bowl")
    ok(await save(client, saver, recipe["id"]), 201)
    assert (await unsave(client, other, recipe["id"])).status_code == 204
    assert await times_saved(client, recipe["id"]) == 1
    assert await count_rows(app, "user_saved_recipes", saver.id) == 1


async def test_unsaving_twice_never_makes_the_count_negative(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    recipe = await recipe_named(client, "Quinoa Buddha Bowl")
    ok(await save(client, user, recipe["id"]), 201)
    for _ in range(3):
        assert (await unsave(client, user, recipe["id"])).status_code == 204
    assert await times_saved(client, recipe["id"]) == 0
    assert ok(await save(client, user, recipe["id"]), 201)["recipe"]["times_saved"] == 1


async def test_ten_concurrent_saves_by_one_person_make_one_entry(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    recipe = await recipe_named(client, "Caprese Skewers")
    responses = await asyncio.gather(*(save(client, user, recipe["id"]) for _ in range(10)))
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201], [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert await count_rows(app, "user_saved_recipes", user.id) == 1
    assert await times_saved(client, recipe["id"]) == 1
    assert len(await events_of(client, user, "recipe_saved")) == 1


async def test_five_people_saving_concurrently_are_all_counted(app: FastAPI, client: httpx.AsyncClient) -> None:
    users = [await anonymous_user(app) for _ in range(5)]
    recipe = await recipe_named(client, "Caprese Skewers")
    responses = await asyncio.gather(*(save(client, user, recipe["id"]) for user in users))
    assert [r.status_code for r in responses] == [201] * 5, [r.text for r in responses]
    assert await times_saved(client, recipe["id"]) == 5
    assert await count_rows(app, "user_saved_recipes") == 5


async def test_concurrent_unsaves_by_five_people_bring_the_count_to_zero(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    users = [await anonymous_user(app) for _ in range(5)]
    recipe = await recipe_named(client, "Caprese Skewers")
    for user in users:
        ok(await save(client, user, recipe["id"]), 201)
    responses = await asyncio.gather(*(unsave(client, user, recipe["id"]) for user in users * 2))
    assert {r.status_code for r in responses} == {204}
    assert await times_saved(client, recipe["id"]) == 0


async def test_saved_list_shows_the_callers_recipes_newest_first(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user, other = await anonymous_user(app), await anonymous_user(app)
    order = ["Protein Pancakes", "Thai Basil Chicken", "Caprese Skewers"]
    for name in order:
        ok(await save(client, user, (await recipe_named(client, name))["id"]), 201)
        clock.advance(minutes=1)
    ok(await save(client, other, (await recipe_named(client, "Edamame with Sea Salt"))["id"]), 201)
    rows = ok(await client.get(SAVED_LIST, headers=user.headers))
    assert [r["name"] for r in rows] == order[::-1]
    assert all(r["is_saved"] for r in rows)
    page = ok(await client.get(SAVED_LIST, headers=user.headers, params={"limit": 1, "offset": 1}))
    assert [r["name"] for r in page] == ["Thai Basil Chicken"]


async def test_saved_list_of_someone_who_saved_nothing_is_empty(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.get(SAVED_LIST, headers=user.headers)
    assert response.status_code == 200
    assert response.json() == []


async def test_saving_and_unsaving_are_journalled_once_each(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    recipe = await recipe_named(client, "Thai Basil Chicken")
    ok(await save(client, user, recipe["id"]), 201)
    ok(await save(client, user, recipe["id"]), 200)
    clock.advance(minutes=1)
    await fresh_token(app, user)
    assert (await unsave(client, user, recipe["id"])).status_code == 204
    assert (await unsave(client, user, recipe["id"])).status_code == 204
    saved = await events_of(client, user, "recipe_saved")
    removed = await events_of(client, user, "recipe_unsaved")
    assert [e["related_id"] for e in saved] == [recipe["id"]]
    assert [e["related_id"] for e in removed] == [recipe["id"]]
    assert saved[0]["metadata"]["recipe_name"] == "Thai Basil Chicken"
