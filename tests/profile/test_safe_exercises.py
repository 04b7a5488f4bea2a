"""What to avoid, adapt and do, from the workout restrictions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import anonymous_user
from tests.profile.helpers import RESTRICTIONS, SAFE_EXERCISES, ok

NO_RESTRICTION_RECOMMENDATIONS = ["bodyweight strength", "mobility work", "walking"]


async def safe_exercises(client: httpx.AsyncClient, headers: dict[str, str], update: dict[str, Any]) -> dict[str, Any]:
    ok(await client.patch(RESTRICTIONS, json=update, headers=headers))
    return ok(await client.get(SAFE_EXERCISES, headers=headers))  # type: ignore[no-any-return]


async def test_no_restrictions_avoid_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    body = await safe_exercises(client, user.headers, {})

    assert body["avoid"] == []
    assert body["modify"] == []
    assert body["recommended"] == NO_RESTRICTION_RECOMMENDATIONS


async def test_avoid_high_impact_avoids_running_and_recommends_low_impact(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)

    body = await safe_exercises(client, user.headers, {"avoid_high_impact": True})

    assert body["avoid"] == ["box jumps", "jumping jacks", "running"]
    assert body["recommended"] == ["cycling", "swimming", "walking"]
    assert body["modify"] == []


async def test_avoid_jumping_avoids_jumps_and_suggests_stepping(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    body = await safe_exercises(client, user.headers, {"avoid_jumping": True})

    assert body["avoid"] == ["burpees", "jump lunges", "jump squats"]
    assert body["modify"] == ["Replace jumping with stepping"]
    assert body["recommended"] == NO_RESTRICTION_RECOMMENDATIONS


async def test_avoid_floor_exercises_avoids_floor_work_and_suggests_standing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)

    body = await safe_exercises(client, user.headers, {"avoid_floor_exercises": True})

    assert body["avoid"] == ["crunches", "planks", "push-ups"]
    assert body["modify"] == ["Use standing alternatives"]


async def test_avoid_heavy_weights_avoids_heavy_lifts(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    body = await safe_exercises(client, user.headers, {"avoid_heavy_weights": True})

    assert body["avoid"] == ["heavy deadlifts", "heavy squats"]
    assert body["modify"] == ["Use bodyweight or light resistance"]


async def test_knee_injury_avoids_knee_loading_moves(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    body = await safe_exercises(client, user.headers, {"injury_areas": ["knee"]})

    assert body["avoid"] == ["box jumps", "deep squats", "jump squats", "lunges"]
    assert body["modify"] == ["Reduce range of motion; keep knees behind toes"]
    assert body["injury_areas"] == ["knee"]


@pytest.mark.parametrize(
    ("area", "avoided"),
    [
        ("neck", "headstands"),
        ("shoulder", "pike push-ups"),
        ("upper_back", "pull-ups"),
        ("lower_back", "deadlifts"),
        ("elbow", "tricep dips"),
        ("wrist", "mountain climbers"),
        ("hip", "high knees"),
        ("ankle", "skater hops"),
    ],
)
async def test_each_injury_area_changes_what_to_avoid(
    app: FastAPI, client: httpx.AsyncClient, area: str, avoided: str
) -> None:
    user = await anonymous_user(app)

    body = await safe_exercises(client, user.headers, {"injury_areas": [area]})

    assert avoided in body["avoid"]
    assert len(body["modify"]) == 1


async def test_other_injury_area_adds_no_rule(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    body = await safe_exercises(client, user.headers, {"injury_areas": ["other"]})

    assert body["avoid"] == []
    assert body["modify"] == []


async def test_combined_restrictions_merge_without_duplicates(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    body = await safe_exercises(
        client,
        user.headers,
        {"avoid_high_impact": True, "avoid_jumping": True, "injury_areas": ["knee", "ankle"], "has_chronic_pain": True},
    )

    assert len(body["avoid"]) == len(set(body["avoid"]))
    assert {"running", "burpees", "lunges", "skater hops", "box jumps"} <= set(body["avoid"])
    assert body["modify"] == [
        "Replace jumping with stepping",
        "Reduce range of motion; keep knees behind toes",
        "Choose seated or low-impact alternatives",
        "Stop any movement that increases pain",
    ]


async def test_max_duration_and_fitness_level_echo_the_restrictions(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    body = await safe_exercises(
        client, user.headers, {"max_workout_duration_minutes": 20, "fitness_level": "intermediate"}
    )

    assert body["max_duration"] == 20
    assert body["fitness_level"] == "intermediate"


async def test_cleared_restriction_stops_affecting_advice(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await safe_exercises(client, user.headers, {"avoid_floor_exercises": True, "injury_areas": ["wrist"]})

    body = await safe_exercises(client, user.headers, {"avoid_floor_exercises": False, "injury_areas": None})

    assert body["avoid"] == []
    assert body["modify"] == []
