"""Goals, dietary profile, workout restrictions and preferences: partial updates, null resets a
defaulted field, bounds, the time zone (read by other modules) and the fasting protocols."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from src.modules.profile import FastingProtocol, profile_service
from tests.factories import anonymous_user
from tests.profile.helpers import DIETARY, GOALS, PREFERENCES, RESTRICTIONS, assert_problem, in_unit_of_work, ok

# Goals -----------------------------------------------------------------------------------------


async def test_goals_patch_changes_only_sent_fields(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(
        await client.patch(
            GOALS,
            json={"primary_goal": "weight_loss", "target_weight_kg": 65.5, "daily_step_goal": 12000},
            headers=user.headers,
        )
    )

    body = ok(await client.patch(GOALS, json={"weekly_workout_goal": 5}, headers=user.headers))

    assert body["weekly_workout_goal"] == 5
    assert body["primary_goal"] == "weight_loss"
    assert body["target_weight_kg"] == 65.5
    assert body["daily_step_goal"] == 12000
    assert ok(await client.get(GOALS, headers=user.headers)) == body


async def test_goals_null_resets_defaulted_fields_and_clears_nullable_ones(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    ok(
        await client.patch(
            GOALS,
            json={
                "primary_goal": "muscle_gain",
                "secondary_goals": ["better_sleep"],
                "weekly_workout_goal": 6,
                "target_weight_kg": 80,
                "target_fasting_hours": 20,
            },
            headers=user.headers,
        )
    )

    body = ok(
        await client.patch(
            GOALS,
            json={
                "primary_goal": None,
                "secondary_goals": None,
                "weekly_workout_goal": None,
                "target_weight_kg": None,
            },
            headers=user.headers,
        )
    )

    assert body["primary_goal"] == "improve_fitness"
    assert body["secondary_goals"] == []
    assert body["weekly_workout_goal"] == 3
    assert body["target_weight_kg"] is None
    assert body["target_fasting_hours"] == 20


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("weekly_workout_goal", 0),
        ("weekly_workout_goal", 8),
        ("target_fasting_hours", 11),
        ("target_fasting_hours", 73),
        ("daily_step_goal", 999),
        ("daily_step_goal", 50001),
        ("weekly_fasting_goal", 0),
        ("primary_goal", "get_rich"),
        ("secondary_goals", ["weight_loss", "flying"]),
        ("target_date", "soon"),
        ("weekly_workout_goal", 2.5),
    ],
)
async def test_goal_values_out_of_range_return_422_and_keep_the_saved_goals(
    app: FastAPI, client: httpx.AsyncClient, field: str, value: Any
) -> None:
    user = await anonymous_user(app)
    saved = ok(await client.patch(GOALS, json={"weekly_workout_goal": 4}, headers=user.headers))

    body = assert_problem(await client.patch(GOALS, json={field: value}, headers=user.headers), 422)

    assert field in body["errors"][0]["loc"]
    assert ok(await client.get(GOALS, headers=user.headers)) == saved


@pytest.mark.parametrize(
    "values",
    [
        {"weekly_workout_goal": 1, "target_fasting_hours": 12, "daily_step_goal": 1000},
        {"weekly_workout_goal": 7, "target_fasting_hours": 72, "daily_step_goal": 50000},
    ],
)
async def test_goal_bounds_are_inclusive(app: FastAPI, client: httpx.AsyncClient, values: dict[str, int]) -> None:
    user = await anonymous_user(app)

    body = ok(await client.patch(GOALS, json=values, headers=user.headers))

    assert {k: body[k] for k in values} == values


# Dietary ---------------------------------------------------------------------------------------


async def test_dietary_patch_saves_lists_and_keeps_unsent_fields(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(
        await client.patch(
            DIETARY,
            json={
                "dietary_preference": "vegetarian",
                "allergies": ["peanuts", "shellfish"],
                "daily_calorie_target": 2000,
            },
            headers=user.headers,
        )
    )

    body = ok(await client.patch(DIETARY, json={"favorite_foods": ["lentils"]}, headers=user.headers))

    assert body["dietary_preference"] == "vegetarian"
    assert body["allergies"] == ["peanuts", "shellfish"]
    assert body["favorite_foods"] == ["lentils"]
    assert body["daily_calorie_target"] == 2000


async def test_dietary_null_resets_lists_and_preference(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(
        await client.patch(
            DIETARY,
            json={"dietary_preference": "keto", "allergies": ["gluten"], "fat_target_g": 90},
            headers=user.headers,
        )
    )

    body = ok(
        await client.patch(
            DIETARY, json={"dietary_preference": None, "allergies": None, "fat_target_g": None}, headers=user.headers
        )
    )

    assert body["dietary_preference"] == "none"
    assert body["allergies"] == []
    assert body["fat_target_g"] is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("dietary_preference", "carnivore-ish"),
        ("allergies", "peanuts"),
        ("allergies", ["x" * 61]),
        ("allergies", [""]),
        ("allergies", [f"food {n}" for n in range(51)]),
        ("daily_calorie_target", 100),
        ("break_fast_preference", "x" * 201),
    ],
)
async def test_invalid_dietary_values_return_422(
    app: FastAPI, client: httpx.AsyncClient, field: str, value: Any
) -> None:
    user = await anonymous_user(app)

    assert_problem(await client.patch(DIETARY, json={field: value}, headers=user.headers), 422, "VALIDATION_ERROR")


# Workout restrictions --------------------------------------------------------------------------


async def test_workout_restrictions_patch_changes_only_sent_fields_and_null_resets(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    ok(
        await client.patch(
            RESTRICTIONS,
            json={"injury_areas": ["knee"], "fitness_level": "advanced", "max_workout_duration_minutes": 45},
            headers=user.headers,
        )
    )

    body = ok(
        await client.patch(
            RESTRICTIONS, json={"avoid_jumping": True, "max_workout_duration_minutes": None}, headers=user.headers
        )
    )

    assert body["injury_areas"] == ["knee"]
    assert body["fitness_level"] == "advanced"
    assert body["avoid_jumping"] is True
    assert body["max_workout_duration_minutes"] == 30


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_workout_duration_minutes", 4),
        ("max_workout_duration_minutes", 121),
        ("injury_areas", ["tail"]),
        ("fitness_level", "olympian"),
        ("avoid_jumping", "sometimes"),
    ],
)
async def test_invalid_workout_restrictions_return_422(
    app: FastAPI, client: httpx.AsyncClient, field: str, value: Any
) -> None:
    user = await anonymous_user(app)

    assert_problem(await client.patch(RESTRICTIONS, json={field: value}, headers=user.headers), 422)


# Preferences -----------------------------------------------------------------------------------


async def test_valid_iana_timezone_is_saved(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    body = ok(await client.patch(PREFERENCES, json={"timezone": "Pacific/Auckland"}, headers=user.headers))

    assert body["timezone"] == "Pacific/Auckland"
    assert ok(await client.get(PREFERENCES, headers=user.headers))["timezone"] == "Pacific/Auckland"


@pytest.mark.parametrize(
    "zone", ["Mars/Base", "UTC+5", "GMT+5", "", "Europe", "../../etc/passwd", "europe/london", "localtime"]
)
async def test_unknown_timezone_returns_422_and_keeps_the_saved_zone(
    app: FastAPI, client: httpx.AsyncClient, zone: str
) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(PREFERENCES, json={"timezone": "Europe/Lisbon"}, headers=user.headers))

    body = assert_problem(await client.patch(PREFERENCES, json={"timezone": zone}, headers=user.headers), 422)

    assert "timezone" in body["errors"][0]["loc"]
    assert ok(await client.get(PREFERENCES, headers=user.headers))["timezone"] == "Europe/Lisbon"


async def test_timezone_null_resets_to_utc(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(PREFERENCES, json={"timezone": "Asia/Tokyo"}, headers=user.headers))

    assert ok(await client.patch(PREFERENCES, json={"timezone": None}, headers=user.headers))["timezone"] == "UTC"


async def test_timezone_of_returns_utc_by_default_and_the_saved_zone_after(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    identity_id = uuid.UUID(user.id)

    assert await in_unit_of_work(app, lambda uow: profile_service(uow).timezone_of(identity_id)) == "UTC"

    ok(await client.patch(PREFERENCES, json={"timezone": "Pacific/Auckland"}, headers=user.headers))

    assert await in_unit_of_work(app, lambda uow: profile_service(uow).timezone_of(identity_id)) == "Pacific/Auckland"


async def test_timezones_of_many_people_defaults_missing_ones_to_utc(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    other = await anonymous_user(app)
    ok(await client.patch(PREFERENCES, json={"timezone": "America/Chicago"}, headers=user.headers))
    ids = [uuid.UUID(user.id), uuid.UUID(other.id)]

    zones = await in_unit_of_work(app, lambda uow: profile_service(uow).timezones_of(ids))

    assert zones == {ids[0]: "America/Chicago", ids[1]: "UTC"}


@pytest.mark.parametrize("protocol", [p.value for p in FastingProtocol])
async def test_every_fasting_protocol_is_accepted_as_default(
    app: FastAPI, client: httpx.AsyncClient, protocol: str
) -> None:
    user = await anonymous_user(app)

    body = ok(await client.patch(PREFERENCES, json={"default_fasting_protocol": protocol}, headers=user.headers))

    assert body["default_fasting_protocol"] == protocol
    assert ok(await client.get(PREFERENCES, headers=user.headers))["default_fasting_protocol"] == protocol


def test_the_protocols_offered_are_exactly_the_product_ones() -> None:
    assert {p.value for p in FastingProtocol} == {"16:8", "18:6", "20:4", "OMAD", "24h", "36h", "custom"}


async def test_legacy_24_0_protocol_is_saved_as_24h(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    body = ok(await client.patch(PREFERENCES, json={"default_fasting_protocol": "24:0"}, headers=user.headers))

    assert body["default_fasting_protocol"] == "24h"


@pytest.mark.parametrize("protocol", ["12:12", "forever", "", 16, "16-8"])
async def test_unknown_fasting_protocol_returns_422(app: FastAPI, client: httpx.AsyncClient, protocol: Any) -> None:
    user = await anonymous_user(app)

    body = assert_problem(
        await client.patch(PREFERENCES, json={"default_fasting_protocol": protocol}, headers=user.headers), 422
    )

    assert "default_fasting_protocol" in body["errors"][0]["loc"]


async def test_preferences_patch_keeps_unsent_fields_and_null_resets_defaults(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    ok(
        await client.patch(
            PREFERENCES,
            json={
                "unit_system": "imperial",
                "dark_mode": True,
                "eating_window_start": "12:00:00",
                "eating_window_end": "20:00:00",
                "custom_fast_hours": 30,
            },
            headers=user.headers,
        )
    )

    body = ok(await client.patch(PREFERENCES, json={"dark_mode": None, "language": "pt-BR"}, headers=user.headers))

    assert body["unit_system"] == "imperial"
    assert body["dark_mode"] is False
    assert body["language"] == "pt-BR"
    assert body["eating_window_start"] == "12:00:00"
    assert body["custom_fast_hours"] == 30


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("unit_system", "furlongs"),
        ("language", "English please"),
        ("custom_fast_hours", 0),
        ("custom_fast_hours", 73),
        ("eating_window_start", "25:00"),
        ("timezone", "x" * 65),
        ("dark_mode", {"on": True}),
    ],
)
async def test_invalid_preferences_return_422(app: FastAPI, client: httpx.AsyncClient, field: str, value: Any) -> None:
    user = await anonymous_user(app)

    assert_problem(await client.patch(PREFERENCES, json={field: value}, headers=user.headers), 422)


@pytest.mark.parametrize("sent", ["12:30:00+05:00", "12:30:00Z", "12:30"])
async def test_eating_window_is_a_wall_clock_time_and_reads_back_as_saved(
    app: FastAPI, client: httpx.AsyncClient, sent: str
) -> None:
    user = await anonymous_user(app)

    saved = ok(await client.patch(PREFERENCES, json={"eating_window_start": sent}, headers=user.headers))

    assert saved["eating_window_start"] == "12:30:00"
    assert ok(await client.get(PREFERENCES, headers=user.headers)) == saved
