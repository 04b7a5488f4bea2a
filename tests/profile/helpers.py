"""Shared by the profile tests: the routes, the problem-body check, and the two looks behind the
API a client cannot take (raw rows in the database, and the module interface other modules use)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from src.database import Base

# The shared answer checks, re-exported for the tests of this package.
from tests.http import assert_problem as assert_problem
from tests.http import ok as ok
from tests.support import count_rows, in_unit_of_work  # noqa: F401 - shared helpers, re-exported

API = "/api/v1"
PROFILE = f"{API}/profile"
GOALS = f"{PROFILE}/goals"
HEALTH = f"{PROFILE}/health"
FASTING_SAFETY = f"{PROFILE}/health/fasting-safety"
DIETARY = f"{PROFILE}/dietary"
RESTRICTIONS = f"{PROFILE}/workout-restrictions"
SAFE_EXERCISES = f"{PROFILE}/workout-restrictions/safe-exercises"
PREFERENCES = f"{PROFILE}/preferences"
SOCIAL = f"{PROFILE}/social"
CHECK_USERNAME = f"{PROFILE}/social/check-username"
FRIEND_CODE = f"{PROFILE}/social/friend-code"
ONBOARDING = f"{PROFILE}/onboarding"
COMPLETE = f"{PROFILE}/complete"
EXPORT = f"{PROFILE}/export"
ALL_DATA = f"{PROFILE}/all-data"
ANONYMIZE = f"{PROFILE}/anonymize"
FEED = f"{API}/events/feed"
ME = f"{API}/identity/me"

PROFILE_TABLES = (
    "user_profiles",
    "user_goals",
    "health_profiles",
    "dietary_profiles",
    "workout_restrictions",
    "social_profiles",
    "user_preferences",
    "onboarding_status",
)


async def raw_rows(app: FastAPI, table: str, identity_id: str | uuid.UUID | None = None) -> list[dict[str, Any]]:
    """The stored rows of `table` (optionally of one identity), exactly as the database holds them."""
    t = Base.metadata.tables[table]
    query = select(t)
    if identity_id is not None:
        query = query.where(t.c.identity_id == uuid.UUID(str(identity_id)))
    async with app.state.sessions.reader() as session:
        return [dict(row._mapping) for row in (await session.execute(query)).all()]
