"""The reads that summarise many rows do so in the database: the number of SQL statements a
request sends does not grow with the number of measurements."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from src.modules.metrics import MetricSource
from tests.factories import User, anonymous_user
from tests.metrics.helpers import AGGREGATE, GROUPED, SUMMARY, TREND, bulk_insert, counting_statements, ok

SMALL, LARGE = 20, 500  # the small set spans two days (a trend needs readings on two days)

READS: dict[str, tuple[str, dict[str, str | int]]] = {
    "summary": (SUMMARY, {"metric_type": "weight_kg"}),
    "aggregate": (AGGREGATE, {"metric_type": "weight_kg", "operation": "avg"}),
    "trend": (TREND, {"metric_type": "weight_kg", "period_days": 30}),
    "biomarkers_grouped": (GROUPED, {"limit": 100}),
}


def weights(now: datetime, indices: Sequence[int]) -> list[tuple[str, float, datetime]]:
    """Weights spread over the last 29 days, one every ~83 minutes."""
    return [("weight_kg", 80.0 - i / 100, now - timedelta(minutes=83 * (i + 1))) for i in indices]


def lab_results(now: datetime, indices: Sequence[int]) -> list[tuple[str, float, datetime]]:
    """Five biomarkers per test date, one test every day going back."""
    return [(f"biomarker_m{i % 5}", 1.0 + i, now - timedelta(days=i // 5 + 1)) for i in indices]


async def statements_for(app: FastAPI, client: httpx.AsyncClient, user: User, name: str) -> tuple[int, object]:
    path, params = READS[name]
    ok(await client.get(path, headers=user.headers, params=params))  # warm: the caller's session is now cached
    with counting_statements(app) as log:
        body = ok(await client.get(path, headers=user.headers, params=params))
    return log.count, body


@pytest.mark.parametrize("name", list(READS))
async def test_statement_count_does_not_grow_with_the_number_of_measurements(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, name: str
) -> None:
    user = await anonymous_user(app)
    rows, source = (
        (lab_results, MetricSource.LAB_REPORT) if name == "biomarkers_grouped" else (weights, MetricSource.DEVICE_SYNC)
    )
    await bulk_insert(app, user, rows(clock.now(), range(SMALL)), source=source, flag="normal")
    small, small_body = await statements_for(app, client, user, name)
    await bulk_insert(app, user, rows(clock.now(), range(SMALL, LARGE)), source=source, flag="normal")
    large, large_body = await statements_for(app, client, user, name)
    print(f"GET {READS[name][0]} statements: {SMALL} rows -> {small}, {LARGE} rows -> {large}")  # noqa: T201
    assert small_body != large_body  # the second read did see the extra rows
    assert large == small
    assert small <= 4
