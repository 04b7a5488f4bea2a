"""A person's content data (workout sessions, ratings, saved recipes) in the account export and
gone after erasure, with the catalogue's averages and counters still true for everyone else."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.content.helpers import (
    ACTIVE,
    ALL_DATA,
    EXPORT,
    RECIPES,
    SAVED,
    WORKOUTS,
    count_rows,
    do_workout,
    ok,
    recipe_named,
    start,
    workout_named,
)
from tests.factories import User, anonymous_user

CONTENT_TABLES = ("workout_sessions", "workout_ratings", "user_saved_recipes")


async def engage(client: httpx.AsyncClient, user: User, workout_id: str, recipe_id: str, stars: int) -> None:
    ok(await client.post(f"{WORKOUTS}/{workout_id}/rating", headers=user.headers, json={"rating": stars}))
    ok(await client.post(SAVED, headers=user.headers, json={"recipe_id": recipe_id}), 201)


async def test_export_holds_the_persons_sessions_ratings_and_saved_recipes(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user, other = await anonymous_user(app), await anonymous_user(app)
    quick = await workout_named(client, "Quick HIIT Blast")
    recipe = await recipe_named(client, "Caprese Skewers")
    done = await do_workout(app, client, clock, user, "Quick HIIT Blast")
    await engage(client, user, quick["id"], recipe["id"], 5)
    await engage(client, other, quick["id"], (await recipe_named(client, "Thai Basil Chicken"))["id"], 2)
    content = ok(await client.get(EXPORT, headers=user.headers))["modules"]["content"]
    assert [(s["id"], s["status"], s["xp_earned"]) for s in content["workout_sessions"]] == [
        (done["id"], "completed", done["xp_earned"])
    ]
    assert content["workout_ratings"] == [{"workout_id": quick["id"], "rating": 5}]
    assert [r["recipe_id"] for r in content["saved_recipes"]] == [recipe["id"]]


async def test_erasing_the_account_removes_its_content_rows_and_keeps_catalogue_numbers_true(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    leaving, staying = await anonymous_user(app), await anonymous_user(app)
    quick = await workout_named(client, "Quick HIIT Blast")
    recipe = await recipe_named(client, "Caprese Skewers")
    await do_workout(app, client, clock, leaving, "Morning Stretch")
    await start(client, leaving, quick["id"])  # left running
    await do_workout(app, client, clock, staying, "Morning Stretch")
    await engage(client, leaving, quick["id"], recipe["id"], 5)
    await engage(client, staying, quick["id"], recipe["id"], 2)
    assert (await workout_named(client, "Quick HIIT Blast"))["average_rating"] == 3.5

    ok(await client.delete(ALL_DATA, headers=leaving.headers, params={"confirm": "true"}))

    for table in CONTENT_TABLES:
        assert await count_rows(app, table, leaving.id) == 0, table
        assert await count_rows(app, table, staying.id) == 1, table
    shown = await workout_named(client, "Quick HIIT Blast")
    assert (shown["average_rating"], shown["rating_count"]) == (2.0, 1)
    assert ok(await client.get(f"{RECIPES}/{recipe['id']}"))["times_saved"] == 1
    assert (await client.get(ACTIVE, headers=leaving.headers)).status_code == 401


async def test_erasing_the_only_rater_and_saver_returns_the_numbers_to_zero(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    quick = await workout_named(client, "Quick HIIT Blast")
    recipe = await recipe_named(client, "Caprese Skewers")
    await engage(client, user, quick["id"], recipe["id"], 4)
    ok(await client.delete(ALL_DATA, headers=user.headers, params={"confirm": "true"}))
    shown = await workout_named(client, "Quick HIIT Blast")
    assert (shown["average_rating"], shown["rating_count"]) == (None, 0)
    assert ok(await client.get(f"{RECIPES}/{recipe['id']}"))["times_saved"] == 0
