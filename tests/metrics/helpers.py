"""Shared by the metrics tests: the routes, the problem-body check, recording through the API,
writing many measurements the way other modules do (through the metrics interface), and the looks
behind the API a client cannot take (stored rows, SQL statement counts)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from src.core.uow import UnitOfWork
from src.database import Base
from src.modules.metrics import Measurement, MetricSource, metrics
from tests.factories import User

# The shared answer checks, re-exported for the tests of this package.
from tests.http import assert_problem as assert_problem
from tests.http import ok as ok
from tests.support import StatementLog, counting_statements, in_unit_of_work  # noqa: F401 - shared helpers, re-exported

API = "/api/v1"
METRICS = f"{API}/metrics"
LATEST = f"{METRICS}/latest"
HISTORY = f"{METRICS}/history"
BY_PREFIX = f"{METRICS}/by-prefix"
TREND = f"{METRICS}/trend"
AGGREGATE = f"{METRICS}/aggregate"
SUMMARY = f"{METRICS}/summary"
GROUPED = f"{METRICS}/biomarkers/grouped"
FEED = f"{API}/events/feed"
PREFERENCES = f"{API}/profile/preferences"
ONBOARDING = f"{API}/profile/onboarding"
STREAKS = f"{API}/progression/streaks"
XP_HISTORY = f"{API}/progression/xp/history"
MY_ACHIEVEMENTS = f"{API}/progression/achievements/mine"
EXPORT = f"{API}/profile/export"
ALL_DATA = f"{API}/profile/all-data"
ANONYMIZE = f"{API}/profile/anonymize"


def utc(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    """An instant of 2026 in UTC."""
    return datetime(2026, month, day, hour, minute, second, tzinfo=UTC)


async def record(client: httpx.AsyncClient, user: User, metric_type: str, value: float, **fields: Any) -> Any:
    """POST a measurement that must be accepted; returns the stored metric (with what it earned)."""
    payload: dict[str, Any] = {"metric_type": metric_type, "value": value}
    for name, given in fields.items():
        payload[name] = given.isoformat() if isinstance(given, datetime) else given
    return ok(await client.post(METRICS, headers=user.headers, json=payload), 201)


async def set_timezone(client: httpx.AsyncClient, user: User, zone: str) -> None:
    body = ok(await client.patch(PREFERENCES, headers=user.headers, json={"timezone": zone}))
    assert body["timezone"] == zone


async def store_many(
    app: FastAPI,
    user: User,
    points: Sequence[tuple[str, float, datetime]] | Sequence[Measurement],
    *,
    source: MetricSource = MetricSource.DEVICE_SYNC,
) -> None:
    """Write many measurements at once, the way a device sync or a lab report import does."""
    measurements = [
        p if isinstance(p, Measurement) else Measurement(metric_type=p[0], value=p[1], timestamp=p[2]) for p in points
    ]

    async def work(uow: UnitOfWork) -> None:
        await metrics(uow).store(uuid.UUID(user.id), measurements, source=source)

    await in_unit_of_work(app, work)


async def bulk_insert(
    app: FastAPI,
    user: User,
    points: Sequence[tuple[str, float, datetime]],
    *,
    source: MetricSource = MetricSource.DEVICE_SYNC,
    flag: str | None = None,
) -> None:
    """Volume for the read tests: many rows in one statement, straight into the table (the write
    path is covered by its own tests; here only what the reads do with the rows matters)."""
    table = Base.metadata.tables["metrics"]
    rows = [
        {
            "id": uuid.uuid4(),
            "identity_id": uuid.UUID(user.id),
            "metric_type": metric_type,
            "value": value,
            "value_text": None,
            "timestamp": at,
            "source": str(source),
            "note": None,
            "unit": None,
            "reference_low": None,
            "reference_high": None,
            "flag": flag,
            "lab_report_id": None,
            "created_at": at,
            "updated_at": at,
        }
        for metric_type, value, at in points
    ]

    async def work(uow: UnitOfWork) -> None:
        await uow.session.execute(table.insert(), rows)

    await in_unit_of_work(app, work)


async def stored_rows(app: FastAPI, table: str = "metrics", identity_id: str | None = None) -> list[dict[str, Any]]:
    """The stored rows of `table` (optionally of one identity), exactly as the database holds them."""
    t = Base.metadata.tables[table]
    query = select(t)
    if identity_id is not None:
        query = query.where(t.c.identity_id == uuid.UUID(identity_id))
    async with app.state.sessions.reader() as session:
        return [dict(row._mapping) for row in (await session.execute(query)).all()]
