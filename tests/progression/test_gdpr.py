"""What the account export holds of progression."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.factories import anonymous_user
from tests.progression.helpers import API, complete_workout, log_fast_on, ok, social, utc

EXPORT = f"{API}/profile/export"


async def test_export_holds_the_counters_achievements_are_measured_on(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await log_fast_on(client, user, 9)
    await complete_workout(app, user, utc(3, 10, 6), category="HIIT")  # 06:00: an early workout
    await complete_workout(app, user, utc(3, 10, 22), category="Yoga")  # 22:00: a late one
    await social(app, user, utc(3, 10, 12), friends_count=3, challenge_joined=True)

    exported = ok(await client.get(EXPORT, headers=user.headers))["modules"]["progression"]
    stats = exported["progression_stats"]
    assert {key: value for key, value in stats.items() if key != "updated_at"} == {
        "activities": 3,
        "fasts": 1,
        "fasts_20h": 0,
        "fasts_24h": 0,
        "workouts": 2,
        "early_workouts": 1,
        "late_workouts": 1,
        "weights": 0,
        "friends": 3,
        "challenges_joined": 1,
        "challenges_won": 0,
        "workout_categories": ["HIIT", "Yoga"],
    }
    assert stats["updated_at"].endswith("+00:00")


async def test_export_of_someone_without_activity_has_no_counters(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    exported = ok(await client.get(EXPORT, headers=user.headers))["modules"]["progression"]
    assert exported["progression_stats"] is None
    assert exported["xp_ledger"] == []
