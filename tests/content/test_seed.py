"""The seeded catalogue: its size, its consistency, seeders that can run again without changing
anything or touching what people did, and that put back a catalogue value changed by hand."""

from __future__ import annotations

import copy
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import delete, func, select, update

from src.core.clock import FrozenClock
from src.core.uow import UnitOfWork
from src.modules.content.orm import (
    ExerciseRow,
    RecipeDietTagRow,
    RecipeRow,
    WorkoutCategoryRow,
    WorkoutRow,
)
from src.modules.content.seed import (
    ExerciseSeed,
    SeedReport,
    WorkoutSeed,
    seed_recipes,
    seed_workouts,
    workout_catalogue,
)
from tests.content.helpers import (
    HISTORY,
    RECIPES,
    SAVED,
    SAVED_LIST,
    WORKOUTS,
    count_rows,
    do_workout,
    in_unit_of_work,
    ok,
    recipe_named,
    workout_detail,
    workout_named,
)
from tests.factories import anonymous_user


async def reseed(app: FastAPI) -> tuple[SeedReport, SeedReport]:
    async def work(uow: UnitOfWork) -> tuple[SeedReport, SeedReport]:
        return await seed_workouts(uow), await seed_recipes(uow)

    return await in_unit_of_work(app, work)


async def snapshot(app: FastAPI) -> dict[str, Any]:
    """Every catalogue row's id and content, keyed by what the seed knows it by."""
    async with app.state.sessions.reader() as session:
        categories = {
            r.name: (r.id, r.icon, r.color) for r in (await session.execute(select(WorkoutCategoryRow))).scalars()
        }
        workouts = {
            r.name: (r.id, r.duration_minutes, r.difficulty, r.is_featured, r.category_id)
            for r in (await session.execute(select(WorkoutRow))).scalars()
        }
        exercises = {
            (r.workout_id, r.position): (r.id, r.name, r.duration_seconds, r.rest_seconds)
            for r in (await session.execute(select(ExerciseRow))).scalars()
        }
        recipes = {
            r.name: (r.id, r.calories, tuple(r.diet_tags)) for r in (await session.execute(select(RecipeRow))).scalars()
        }
        tags = sorted(
            (str(a), b)
            for a, b in (await session.execute(select(RecipeDietTagRow.recipe_id, RecipeDietTagRow.tag))).all()
        )
    return {"categories": categories, "workouts": workouts, "exercises": exercises, "recipes": recipes, "tags": tags}


async def test_seed_holds_the_documented_catalogue(app: FastAPI) -> None:
    assert await count_rows(app, "workout_categories") == 5
    assert await count_rows(app, "workouts") == 23
    assert await count_rows(app, "exercises") == 114
    assert await count_rows(app, "recipes") == 42
    async with app.state.sessions.reader() as session:
        distinct_names = (await session.execute(select(func.count(func.distinct(ExerciseRow.name))))).scalar_one()
        meal_types = dict(
            (await session.execute(select(RecipeRow.meal_type, func.count()).group_by(RecipeRow.meal_type))).all()
        )
        featured = (await session.execute(select(func.count()).where(RecipeRow.is_featured.is_(True)))).scalar_one()
        focus = dict(
            (await session.execute(select(ExerciseRow.body_focus, func.count()).group_by(ExerciseRow.body_focus))).all()
        )
    assert distinct_names == 80
    assert meal_types == {"breakfast": 10, "lunch": 10, "dinner": 10, "snack": 12}
    assert featured == 13
    assert sum(focus.values()) == 114


async def test_recipe_tag_rows_match_each_recipes_tags(app: FastAPI) -> None:
    async with app.state.sessions.reader() as session:
        recipes = {r.id: set(r.diet_tags) for r in (await session.execute(select(RecipeRow))).scalars()}
        rows = (await session.execute(select(RecipeDietTagRow.recipe_id, RecipeDietTagRow.tag))).all()
    by_recipe: dict[Any, set[str]] = {}
    for recipe_id, tag in rows:
        by_recipe.setdefault(recipe_id, set()).add(tag)
    assert {k: v for k, v in recipes.items() if v} == by_recipe
    assert Counter(t for tags in recipes.values() for t in tags)["high_protein"] == 36


async def test_running_the_seeders_again_changes_nothing(app: FastAPI) -> None:
    before = await snapshot(app)
    workouts, recipes = await reseed(app)
    assert workouts == SeedReport()
    assert recipes == SeedReport()
    assert await snapshot(app) == before


async def test_running_the_seeders_again_keeps_what_people_did(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    done = await do_workout(app, client, clock, user, "Quick HIIT Blast")
    quick = await workout_named(client, "Quick HIIT Blast")
    ok(await client.post(f"{WORKOUTS}/{quick['id']}/rating", headers=user.headers, json={"rating": 4}))
    recipe = await recipe_named(client, "Caprese Skewers")
    ok(await client.post(SAVED, headers=user.headers, json={"recipe_id": recipe["id"]}), 201)

    await reseed(app)

    history = ok(await client.get(HISTORY, headers=user.headers))
    assert [(s["id"], s["status"], s["xp_earned"]) for s in history] == [(done["id"], "completed", done["xp_earned"])]
    assert [r["id"] for r in ok(await client.get(SAVED_LIST, headers=user.headers))] == [recipe["id"]]
    quick_after = await workout_named(client, "Quick HIIT Blast")
    assert quick_after["id"] == quick["id"]
    assert (quick_after["times_completed"], quick_after["average_rating"], quick_after["rating_count"]) == (1, 4.0, 1)
    assert ok(await client.get(f"{RECIPES}/{recipe['id']}"))["times_saved"] == 1
    assert await count_rows(app, "workout_ratings", user.id) == 1


async def test_running_the_seeders_again_restores_a_catalogue_value_changed_by_hand(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    quick = await workout_detail(client, (await workout_named(client, "Quick HIIT Blast"))["id"])
    first_exercise = quick["exercises"][0]
    salmon = await recipe_named(client, "Grilled Salmon with Asparagus")
    exercise_id, salmon_id = uuid.UUID(first_exercise["id"]), uuid.UUID(salmon["id"])
    try:
        async with app.state.sessions.writer() as session:
            await session.execute(
                update(WorkoutRow)
                .where(WorkoutRow.name == "Quick HIIT Blast")
                .values(duration_minutes=99, is_featured=False)
            )
            await session.execute(update(ExerciseRow).where(ExerciseRow.id == exercise_id).values(rest_seconds=1))
            await session.execute(update(RecipeRow).where(RecipeRow.id == salmon_id).values(calories=9999))
            await session.execute(
                delete(RecipeDietTagRow).where(RecipeDietTagRow.recipe_id == salmon_id, RecipeDietTagRow.tag == "keto")
            )
            session.add(RecipeDietTagRow(recipe_id=salmon_id, tag="vegan"))
            await session.commit()
        changed = await workout_detail(client, quick["id"])
        assert changed["duration_minutes"] == 99
        assert "Grilled Salmon with Asparagus" in [
            r["name"] for r in ok(await client.get(RECIPES, params={"diet_tags": "vegan", "limit": 100}))
        ]

        workouts, recipes = await reseed(app)
        assert (workouts.workouts, workouts.exercises, recipes.recipes) == (1, 1, 1)
    finally:
        await reseed(app)  # the catalogue is shared by the whole test session

    restored = await workout_detail(client, quick["id"])
    assert restored["duration_minutes"] == 10
    assert restored["is_featured"] is True
    assert restored["exercises"][0]["rest_seconds"] == first_exercise["rest_seconds"]
    assert ok(await client.get(f"{RECIPES}/{salmon['id']}"))["calories"] == salmon["calories"]
    keto = [r["name"] for r in ok(await client.get(RECIPES, params={"diet_tags": "keto", "limit": 100}))]
    vegan = [r["name"] for r in ok(await client.get(RECIPES, params={"diet_tags": "vegan", "limit": 100}))]
    assert "Grilled Salmon with Asparagus" in keto
    assert "Grilled Salmon with Asparagus" not in vegan


# Seed validation (no database) ------------------------------------------------------------------


def _quick_hiit_blast() -> dict[str, Any]:
    seed = next(w for w in workout_catalogue().workouts if w.name == "Quick HIIT Blast")
    return copy.deepcopy(seed.model_dump(mode="json"))


def test_a_consistent_workout_seed_is_accepted() -> None:
    data = _quick_hiit_blast()
    assert WorkoutSeed.model_validate(data).duration_minutes == 10


def test_a_workout_whose_exercises_do_not_add_up_to_its_duration_is_rejected() -> None:
    data = _quick_hiit_blast()
    data["exercises"][0]["rest_seconds"] += 1
    with pytest.raises(ValidationError, match="add up"):
        WorkoutSeed.model_validate(data)


def test_a_workout_whose_declared_duration_is_longer_than_its_exercises_is_rejected() -> None:
    data = _quick_hiit_blast()
    data["duration_minutes"] = 20
    with pytest.raises(ValidationError, match="add up"):
        WorkoutSeed.model_validate(data)


def test_an_exercise_with_an_unknown_stress_area_is_rejected() -> None:
    data = _quick_hiit_blast()["exercises"][0]
    data["stress_areas"] = ["knee", "toe"]
    with pytest.raises(ValidationError, match="toe"):
        ExerciseSeed.model_validate(data)


def test_an_exercise_with_known_stress_areas_is_accepted() -> None:
    data = _quick_hiit_blast()["exercises"][0]
    data["stress_areas"] = ["knee", "ankle"]
    assert ExerciseSeed.model_validate(data).stress_areas == ["knee", "ankle"]
