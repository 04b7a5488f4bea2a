"""The public catalogue: categories, workouts and exercises, browsed without signing in. The seed
files are the oracle for what every filter must return."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from src.core.catalogue import CatalogueCache
from src.modules.content.seed import workout_catalogue
from tests.content.helpers import (
    CATEGORIES,
    EXERCISES,
    WORKOUTS,
    all_workouts,
    assert_problem,
    counting_statements,
    names,
    ok,
    workout_detail,
    workout_named,
)

CATALOGUE = workout_catalogue()
CATEGORY_OF = {w.name: w.category for w in CATALOGUE.workouts}


def expected(predicate: Callable[[Any], bool]) -> set[str]:
    return {w.name for w in CATALOGUE.workouts if predicate(w)}


# Categories -------------------------------------------------------------------------------------


async def test_categories_list_the_five_with_their_workout_counts_ordered_by_name(client: httpx.AsyncClient) -> None:
    rows = ok(await client.get(CATEGORIES))
    assert [r["name"] for r in rows] == ["Cardio", "Flexibility", "HIIT", "Recovery", "Strength"]
    assert {r["name"]: r["workout_count"] for r in rows} == {
        "Cardio": 3,
        "Flexibility": 3,
        "HIIT": 10,
        "Recovery": 4,
        "Strength": 3,
    }
    assert {r["name"]: r["icon"] for r in rows}["HIIT"] == "flame"


async def test_one_category_by_id_matches_the_list_entry(client: httpx.AsyncClient) -> None:
    listed = {r["name"]: r for r in ok(await client.get(CATEGORIES))}
    one = ok(await client.get(f"{CATEGORIES}/{listed['Strength']['id']}"))
    assert one == listed["Strength"]


async def test_unknown_category_returns_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{CATEGORIES}/{uuid.uuid4()}"), 404, "CATEGORY_NOT_FOUND")


async def test_malformed_category_id_returns_422(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{CATEGORIES}/not-a-uuid"), 422)


# Workouts ---------------------------------------------------------------------------------------


async def test_workout_list_has_all_23_with_category_and_without_exercises(client: httpx.AsyncClient) -> None:
    rows = await all_workouts(client)
    assert len(rows) == 23
    assert set(names(rows)) == expected(lambda w: True)
    for row in rows:
        assert row["exercises"] is None
        assert row["category"]["name"] == CATEGORY_OF[row["name"]]
        assert row["category"]["id"] == row["category_id"]


async def test_workout_list_puts_featured_first(client: httpx.AsyncClient) -> None:
    rows = await all_workouts(client)
    flags = [r["is_featured"] for r in rows]
    assert flags == sorted(flags, reverse=True)
    assert sum(flags) == 11


async def test_workout_pages_are_disjoint_and_cover_the_whole_list_in_order(client: httpx.AsyncClient) -> None:
    whole = [r["id"] for r in await all_workouts(client)]
    pages = [
        [r["id"] for r in ok(await client.get(WORKOUTS, params={"limit": 5, "offset": offset}))]
        for offset in range(0, 25, 5)
    ]
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert [i for page in pages for i in page] == whole
    assert len(set(whole)) == 23


async def test_workout_list_default_page_holds_20(client: httpx.AsyncClient) -> None:
    assert len(ok(await client.get(WORKOUTS))) == 20


@pytest.mark.parametrize(
    ("params", "predicate", "size"),
    [
        ({"workout_type": "strength"}, lambda w: w.workout_type == "strength", 3),
        ({"difficulty": "advanced"}, lambda w: w.difficulty == "advanced", 4),
        (
            {"workout_type": "hiit", "difficulty": "beginner"},
            lambda w: w.workout_type == "hiit" and w.difficulty == "beginner",
            3,
        ),
        ({"min_duration": 20}, lambda w: w.duration_minutes >= 20, 6),
        ({"max_duration": 10}, lambda w: w.duration_minutes <= 10, 4),
        ({"min_duration": 12, "max_duration": 15}, lambda w: 12 <= w.duration_minutes <= 15, 10),
        ({"is_featured": "true"}, lambda w: w.is_featured, 11),
        ({"is_featured": "false"}, lambda w: not w.is_featured, 12),
    ],
    ids=[
        "type",
        "difficulty",
        "type-and-difficulty",
        "min-duration",
        "max-duration",
        "duration-range",
        "featured",
        "not-featured",
    ],
)
async def test_workout_filters_return_exactly_the_matching_workouts(
    client: httpx.AsyncClient,
    params: dict[str, Any],
    predicate: Callable[[Any], bool],
    size: int,
) -> None:
    rows = await all_workouts(client, **params)
    assert set(names(rows)) == expected(predicate)
    assert len(rows) == size


async def test_workout_filter_by_category_returns_that_categorys_workouts(client: httpx.AsyncClient) -> None:
    categories = {r["name"]: r["id"] for r in ok(await client.get(CATEGORIES))}
    rows = await all_workouts(client, category_id=categories["Recovery"])
    assert set(names(rows)) == expected(lambda w: w.category == "Recovery")
    assert len(rows) == 4


async def test_workout_filter_by_unknown_category_is_empty(client: httpx.AsyncClient) -> None:
    assert await all_workouts(client, category_id=str(uuid.uuid4())) == []


async def test_workout_search_is_a_case_insensitive_substring_of_name_or_description(
    client: httpx.AsyncClient,
) -> None:
    rows = await all_workouts(client, search="hIiT")
    wanted = expected(lambda w: "hiit" in w.name.lower() or "hiit" in w.description.lower())
    assert set(names(rows)) == wanted
    assert "Quick HIIT Blast" in wanted
    assert len(wanted) < 23


async def test_workout_search_treats_percent_and_underscore_literally(client: httpx.AsyncClient) -> None:
    for needle in ("%", "_", "Quick_HIIT", "Quick%Blast"):
        rows = await all_workouts(client, search=needle)
        wanted = {w.name for w in CATALOGUE.workouts if needle.lower() in f"{w.name}\n{w.description}".lower()}
        assert set(names(rows)) == wanted, needle
    assert await all_workouts(client, search="Quick_HIIT") == []


@pytest.mark.parametrize(
    ("value", "focus"),
    [
        ("upper_body", "upper_body"),
        ("upper", "upper_body"),
        ("lower", "lower_body"),
        ("full", "full_body"),
        ("UPPER", "upper_body"),
    ],
)
async def test_workout_filter_by_body_focus_accepts_the_short_aliases(
    client: httpx.AsyncClient, value: str, focus: str
) -> None:
    rows = await all_workouts(client, body_focus=value)
    wanted = expected(lambda w: w.body_focus == focus)
    assert set(names(rows)) == wanted
    assert {r["body_focus"] for r in rows} == {focus}
    assert 0 < len(wanted) < 23


async def test_workout_filter_by_body_focus_matches_the_workouts_own_focus_not_one_exercise(
    client: httpx.AsyncClient,
) -> None:
    # Full Body Flexibility is a lower-body workout with some upper-body exercises: not an upper-body workout.
    mixed = await workout_detail(client, (await workout_named(client, "Full Body Flexibility"))["id"])
    assert mixed["body_focus"] == "lower_body"
    assert "upper_body" in {e["body_focus"] for e in mixed["exercises"]}
    assert "Full Body Flexibility" not in names(await all_workouts(client, body_focus="upper"))
    assert "Full Body Flexibility" in names(await all_workouts(client, body_focus="lower"))
    # No workout's main focus is the core (core exercises only ever assist): none is listed.
    assert expected(lambda w: w.body_focus == "core") == set()
    assert await all_workouts(client, body_focus="core") == []


async def test_workout_filter_with_unknown_body_focus_returns_422(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(WORKOUTS, params={"body_focus": "sideways"}), 422)


@pytest.mark.parametrize(
    "params",
    [
        {"workout_type": "yoga"},
        {"difficulty": "expert"},
        {"category_id": "nope"},
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"min_duration": -5},
        {"is_featured": "perhaps"},
    ],
)
async def test_workout_list_rejects_bad_query_values_with_422(
    client: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    assert_problem(await client.get(WORKOUTS, params=params), 422)


async def test_every_workout_lasts_exactly_the_sum_of_its_exercises_and_rests(client: httpx.AsyncClient) -> None:
    for row in await all_workouts(client):
        detail = await workout_detail(client, row["id"])
        total = sum(e["duration_seconds"] + e["rest_seconds"] for e in detail["exercises"])
        assert total == detail["duration_minutes"] * 60, detail["name"]


async def test_workout_detail_lists_exercises_in_order_only_when_asked(client: httpx.AsyncClient) -> None:
    quick = await workout_named(client, "Quick HIIT Blast")
    plain = ok(await client.get(f"{WORKOUTS}/{quick['id']}"))
    assert plain["exercises"] is None
    detail = await workout_detail(client, quick["id"])
    assert [e["order"] for e in detail["exercises"]] == list(range(len(detail["exercises"])))
    seed = next(w for w in CATALOGUE.workouts if w.name == "Quick HIIT Blast")
    assert [e["name"] for e in detail["exercises"]] == [e.name for e in seed.exercises]
    assert detail["category"]["name"] == "HIIT"
    assert detail["difficulty"] == "beginner"
    assert detail["duration_minutes"] == 10
    assert detail["calories_estimate"] == 120


async def test_unknown_workout_returns_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{WORKOUTS}/{uuid.uuid4()}"), 404, "WORKOUT_NOT_FOUND")


async def test_malformed_workout_id_returns_422(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(f"{WORKOUTS}/12345"), 422)


# Exercises --------------------------------------------------------------------------------------

EXERCISE_ROWS = [e for w in CATALOGUE.workouts for e in w.exercises]


def exercise_names(predicate: Callable[[Any], bool]) -> set[str]:
    return {e.name for e in EXERCISE_ROWS if predicate(e)}


async def all_exercises(client: httpx.AsyncClient, **params: Any) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = ok(await client.get(EXERCISES, params={"limit": 200, **params}))
    return rows


async def test_exercises_are_distinct_by_name_80_of_them_in_name_order(client: httpx.AsyncClient) -> None:
    rows = await all_exercises(client)
    listed = [str(r["name"]) for r in rows]
    assert len(listed) == 80
    assert len(set(listed)) == 80
    assert set(listed) == exercise_names(lambda e: True)
    assert listed == sorted(listed)


async def test_exercise_pages_are_disjoint_and_cover_all_names(client: httpx.AsyncClient) -> None:
    whole = [r["id"] for r in await all_exercises(client)]
    pages = [
        [r["id"] for r in ok(await client.get(EXERCISES, params={"limit": 30, "offset": offset}))]
        for offset in (0, 30, 60)
    ]
    assert [len(p) for p in pages] == [30, 30, 20]
    assert [i for page in pages for i in page] == whole


async def test_exercise_default_page_holds_50(client: httpx.AsyncClient) -> None:
    assert len(ok(await client.get(EXERCISES))) == 50


@pytest.mark.parametrize(
    ("params", "predicate"),
    [
        ({"body_focus": "lower_body"}, lambda e: e.body_focus == "lower_body"),
        ({"body_focus": "core"}, lambda e: e.body_focus == "core"),
        ({"body_focus": "upper"}, lambda e: e.body_focus == "upper_body"),
        ({"difficulty": "advanced"}, lambda e: e.difficulty == "advanced"),
        ({"equipment_required": "mat"}, lambda e: e.equipment_required == "mat"),
        ({"equipment_required": "MAT"}, lambda e: e.equipment_required == "mat"),
        ({"equipment_required": "none"}, lambda e: e.equipment_required is None),
        ({"search": "SQUAT"}, lambda e: "squat" in e.name.lower()),
        ({"search": "%"}, lambda e: "%" in e.name),
        (
            {"body_focus": "lower", "difficulty": "beginner"},
            lambda e: e.body_focus == "lower_body" and e.difficulty == "beginner",
        ),
    ],
    ids=[
        "lower",
        "core",
        "upper-alias",
        "advanced",
        "mat",
        "mat-any-case",
        "no-equipment",
        "search",
        "search-percent",
        "focus-and-difficulty",
    ],
)
async def test_exercise_filters_return_one_row_per_matching_name(
    client: httpx.AsyncClient,
    params: dict[str, Any],
    predicate: Callable[[Any], bool],
) -> None:
    rows = await all_exercises(client, **params)
    listed = [str(r["name"]) for r in rows]
    assert len(listed) == len(set(listed))
    assert set(listed) == exercise_names(predicate)
    if "body_focus" in params:
        assert {r["body_focus"] for r in rows} <= {"lower_body", "core", "upper_body"}


async def test_exercise_filter_with_unknown_body_focus_returns_422(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(EXERCISES, params={"body_focus": "tail"}), 422)


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 201}, {"offset": -1}, {"difficulty": "expert"}])
async def test_exercise_list_rejects_bad_query_values_with_422(
    client: httpx.AsyncClient, params: dict[str, Any]
) -> None:
    assert_problem(await client.get(EXERCISES, params=params), 422)


# Bounded SQL ------------------------------------------------------------------------------------


async def _statements(app: FastAPI, client: httpx.AsyncClient, url: str, limit: int) -> int:
    with counting_statements(app) as log:
        rows = ok(await client.get(url, params={"limit": limit}))
    assert rows
    return log.count


async def test_workout_list_runs_a_few_statements_whatever_the_page_size(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await client.get(WORKOUTS, params={"limit": 1})  # warm-up: connection set-up is not the query
    small = await _statements(app, client, WORKOUTS, 5)
    large = await _statements(app, client, WORKOUTS, 100)
    print(f"GET /content/workouts statements: limit=5 -> {small}, limit=100 -> {large}")  # noqa: T201
    assert large <= 3
    assert small == large


async def test_exercise_list_runs_a_few_statements_whatever_the_page_size(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await client.get(EXERCISES, params={"limit": 1})
    small = await _statements(app, client, EXERCISES, 5)
    large = await _statements(app, client, EXERCISES, 200)
    print(f"GET /content/exercises statements: limit=5 -> {small}, limit=200 -> {large}")  # noqa: T201
    assert large <= 3
    assert small == large


async def test_a_catalogue_figure_is_loaded_once_until_the_catalogue_is_seeded_again() -> None:
    loads: list[int] = []

    async def count_visible() -> int:
        loads.append(1)
        return 40 + len(loads)

    cache = CatalogueCache(60)
    assert [await cache.figure("visible", count_visible) for _ in range(3)] == [41, 41, 41]
    cache.clear()  # what the seeders do
    assert await cache.figure("visible", count_visible) == 42

    uncached = CatalogueCache(0)
    assert [await uncached.figure("visible", count_visible) for _ in range(2)] == [43, 44]
