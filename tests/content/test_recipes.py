"""The recipe catalogue: 42 recipes, filters applied in SQL before paging (diet tags all must
match, in both query-string forms), full recipes with nutrition, `is_saved` for the caller only.
The seed file is the oracle."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from src.modules.content.seed import recipe_catalogue
from tests.content.helpers import RECIPES, SAVED, all_recipes, assert_problem, names, ok, recipe_named
from tests.factories import anonymous_user

CATALOGUE = recipe_catalogue().recipes
SUMMARY_FIELDS = {
    "id",
    "name",
    "meal_type",
    "prep_time_minutes",
    "calories",
    "protein_g",
    "diet_tags",
    "image_url",
    "is_featured",
    "is_saved",
}


def expected(predicate: Any) -> set[str]:
    return {r.name for r in CATALOGUE if predicate(r)}


def tags_of(recipe: Any) -> set[str]:
    return {str(t) for t in recipe.diet_tags}


async def test_recipe_list_has_all_42_featured_first_then_by_name(client: httpx.AsyncClient) -> None:
    rows = await all_recipes(client)
    assert len(rows) == 42
    assert set(names(rows)) == expected(lambda r: True)
    featured = [r["name"] for r in rows if r["is_featured"]]
    rest = [r["name"] for r in rows if not r["is_featured"]]
    assert len(featured) == 13
    assert names(rows) == sorted(featured) + sorted(rest)
    for row in rows:
        assert set(row) >= SUMMARY_FIELDS
        assert row["is_saved"] is False


@pytest.mark.parametrize(("meal_type", "size"), [("breakfast", 10), ("lunch", 10), ("dinner", 10), ("snack", 12)])
async def test_recipe_filter_by_meal_type(client: httpx.AsyncClient, meal_type: str, size: int) -> None:
    rows = await all_recipes(client, meal_type=meal_type)
    assert set(names(rows)) == expected(lambda r: r.meal_type == meal_type)
    assert len(rows) == size


@pytest.mark.parametrize(
    ("params", "predicate"),
    [
        ({"max_prep_time": 5}, lambda r: r.prep_time_minutes <= 5),
        ({"max_calories": 250}, lambda r: r.calories <= 250),
        ({"min_protein": 30}, lambda r: r.protein_g >= 30),
        ({"min_protein": 30.5}, lambda r: r.protein_g >= 30.5),
        ({"is_featured": "true"}, lambda r: r.is_featured),
        ({"is_featured": "false"}, lambda r: not r.is_featured),
        ({"search": "CHICKEN"}, lambda r: "chicken" in r.name.lower() or "chicken" in r.description.lower()),
        ({"search": "%"}, lambda r: "%" in r.name or "%" in r.description),
        ({"search": "_"}, lambda r: "_" in r.name or "_" in r.description),
        (
            {"meal_type": "snack", "max_calories": 250, "min_protein": 10},
            lambda r: r.meal_type == "snack" and r.calories <= 250 and r.protein_g >= 10,
        ),
    ],
    ids=[
        "max-prep",
        "max-calories",
        "min-protein",
        "min-protein-fraction",
        "featured",
        "not-featured",
        "search",
        "search-percent",
        "search-underscore",
        "combined",
    ],
)
async def test_recipe_filters_return_exactly_the_matching_recipes(
    client: httpx.AsyncClient, params: dict[str, object], predicate: Any
) -> None:
    rows = await all_recipes(client, **params)
    wanted = expected(predicate)
    assert set(names(rows)) == wanted
    if "search" not in params or params["search"] == "CHICKEN":
        assert 0 < len(wanted) < 42


async def test_recipe_diet_tags_are_all_required(client: httpx.AsyncClient) -> None:
    response = await client.get(
        RECIPES, params=[("diet_tags", "vegetarian"), ("diet_tags", "low_carb"), ("limit", 100)]
    )
    rows = ok(response)
    wanted = expected(lambda r: {"vegetarian", "low_carb"} <= tags_of(r))
    assert set(names(rows)) == wanted
    singles = [expected(lambda r, tag=tag: tag in tags_of(r)) for tag in ("vegetarian", "low_carb")]
    assert 0 < len(wanted) < min(len(single) for single in singles)


async def test_recipe_diet_tags_accept_the_bracket_form(client: httpx.AsyncClient) -> None:
    plain = ok(await client.get(RECIPES, params=[("diet_tags", "keto"), ("diet_tags", "dairy_free"), ("limit", 100)]))
    brackets = ok(
        await client.get(RECIPES, params=[("diet_tags[]", "keto"), ("diet_tags[]", "dairy_free"), ("limit", 100)])
    )
    assert names(brackets) == names(plain)
    assert set(names(plain)) == expected(lambda r: {"keto", "dairy_free"} <= tags_of(r))


async def test_recipe_single_diet_tag_filter(client: httpx.AsyncClient) -> None:
    rows = await all_recipes(client, diet_tags="post_workout")
    assert set(names(rows)) == expected(lambda r: "post_workout" in tags_of(r))
    assert len(rows) == 4


async def test_recipe_pages_with_a_tag_filter_are_full_and_disjoint(client: httpx.AsyncClient) -> None:
    whole = [r["id"] for r in await all_recipes(client, diet_tags="high_protein")]
    assert len(whole) == 36
    pages = [
        [r["id"] for r in ok(await client.get(RECIPES, params={"diet_tags": "high_protein", "limit": 10, "offset": o}))]
        for o in (0, 10, 20, 30)
    ]
    assert [len(p) for p in pages] == [10, 10, 10, 6]
    assert [i for page in pages for i in page] == whole


async def test_recipe_pages_with_two_tags_are_full_and_disjoint(client: httpx.AsyncClient) -> None:
    query = [("diet_tags", "high_protein"), ("diet_tags[]", "gluten_free")]
    whole = [r["id"] for r in ok(await client.get(RECIPES, params=[*query, ("limit", 100)]))]
    wanted = expected(lambda r: {"high_protein", "gluten_free"} <= tags_of(r))
    assert len(whole) == len(wanted) > 6
    pages = [
        [r["id"] for r in ok(await client.get(RECIPES, params=[*query, ("limit", 3), ("offset", o)]))]
        for o in range(0, len(whole), 3)
    ]
    assert all(len(p) == 3 for p in pages[:-1])
    assert [i for page in pages for i in page] == whole


@pytest.mark.parametrize(
    "params",
    [
        [("diet_tags", "carnivore")],
        [("diet_tags[]", "carnivore")],
        [("diet_tags", "vegan"), ("diet_tags", "nope")],
        [("meal_type", "brunch")],
        [("max_calories", "-1")],
        [("min_protein", "lots")],
        [("limit", "0")],
        [("limit", "101")],
        [("offset", "-3")],
    ],
)
async def test_recipe_list_rejects_bad_query_values_with_422(
    client: httpx.AsyncClient, params: list[tuple[str, Any]]
) -> None:
    assert_problem(await client.get(RECIPES, params=params), 422)


async def test_recipe_detail_is_the_full_recipe_with_nutrition(client: httpx.AsyncClient) -> None:
    summary = await recipe_named(client, "Grilled Salmon with Asparagus")
    body = ok(await client.get(f"{RECIPES}/{summary['id']}"))
    seed = next(r for r in CATALOGUE if r.name == "Grilled Salmon with Asparagus")
    assert body["name"] == seed.name
    assert body["meal_type"] == "dinner"
    assert body["servings"] == seed.servings
    assert body["total_time_minutes"] == seed.prep_time_minutes + seed.cook_time_minutes
    assert body["nutrition"] == {
        "calories": seed.calories,
        "protein_g": seed.protein_g,
        "carbs_g": seed.carbs_g,
        "fat_g": seed.fat_g,
        "fiber_g": seed.fiber_g,
        "sugar_g": seed.sugar_g,
    }
    assert [i["name"] for i in body["ingredients"]] == [i.name for i in seed.ingredients]
    assert body["instructions"] == seed.instructions
    assert set(body["diet_tags"]) == tags_of(seed)
    assert body["is_saved"] is False


async def test_unknown_recipe_returns_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{RECIPES}/{uuid.uuid4()}"), 404, "RECIPE_NOT_FOUND")


async def test_malformed_recipe_id_returns_422(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{RECIPES}/not-a-recipe"), 422)


async def test_is_saved_is_true_only_for_the_caller_who_saved_it(app: FastAPI, client: httpx.AsyncClient) -> None:
    saver, other = await anonymous_user(app), await anonymous_user(app)
    recipe = await recipe_named(client, "Protein Pancakes")
    ok(await client.post(SAVED, headers=saver.headers, json={"recipe_id": recipe["id"]}), 201)
    mine = {
        r["name"]: r["is_saved"] for r in ok(await client.get(RECIPES, headers=saver.headers, params={"limit": 100}))
    }
    assert mine["Protein Pancakes"] is True
    assert sum(mine.values()) == 1
    theirs = ok(await client.get(RECIPES, headers=other.headers, params={"limit": 100}))
    assert not any(r["is_saved"] for r in theirs)
    assert ok(await client.get(f"{RECIPES}/{recipe['id']}", headers=saver.headers))["is_saved"] is True
    assert ok(await client.get(f"{RECIPES}/{recipe['id']}", headers=other.headers))["is_saved"] is False


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["no-token", "garbage-token", "other-scheme"],
)
async def test_is_saved_is_false_without_a_valid_token_and_the_list_stays_open(
    app: FastAPI, client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    saver = await anonymous_user(app)
    recipe = await recipe_named(client, "Protein Pancakes")
    ok(await client.post(SAVED, headers=saver.headers, json={"recipe_id": recipe["id"]}), 201)
    rows = ok(await client.get(RECIPES, headers=headers, params={"limit": 100}))
    assert len(rows) == 42
    assert not any(r["is_saved"] for r in rows)
    assert ok(await client.get(f"{RECIPES}/{recipe['id']}", headers=headers))["is_saved"] is False
