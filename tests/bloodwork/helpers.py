"""Shared by the bloodwork tests: the routes, the upload call, the problem-body check, and row
counts read straight from the database (what a repeated upload must not change)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from src.database import Base
from tests.factories import User

# The shared answer checks, re-exported for the tests of this package.
from tests.http import assert_problem as assert_problem

API = "/api/v1"
UPLOAD = f"{API}/uploads/bloodwork"
FORMATS = f"{API}/uploads/bloodwork/supported-formats"
GROUPED = f"{API}/metrics/biomarkers/grouped"
TREND = f"{API}/metrics/trend"
HISTORY = f"{API}/metrics/history"
ONBOARDING = f"{API}/profile/onboarding"
PREFERENCES = f"{API}/profile/preferences"
BY_RELATED = f"{API}/events/by-related"
EVENT_COUNT = f"{API}/events/count"

BIOMARKER_FIELDS = (
    "raw_name",
    "standardised_name",
    "metric_type",
    "value",
    "value_text",
    "unit",
    "reference_low",
    "reference_high",
    "flag",
)


async def upload(
    client: httpx.AsyncClient,
    user: User | None,
    data: bytes,
    *,
    filename: str = "report.pdf",
    content_type: str = "application/pdf",
    params: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        UPLOAD,
        headers=user.headers if user else {},
        files={"file": (filename, data, content_type)},
        params=params,
    )


def expect(
    raw_name: str,
    standardised_name: str,
    metric_type: str,
    value: float | None,
    value_text: str,
    unit: str | None,
    reference_low: float | None,
    reference_high: float | None,
    flag: str | None,
) -> dict[str, Any]:
    return dict(
        zip(
            BIOMARKER_FIELDS,
            (raw_name, standardised_name, metric_type, value, value_text, unit, reference_low, reference_high, flag),
            strict=True,
        )
    )


def biomarkers_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [{name: item[name] for name in BIOMARKER_FIELDS} for item in body["biomarkers"]]


async def set_timezone(client: httpx.AsyncClient, user: User, zone: str) -> None:
    response = await client.patch(PREFERENCES, headers=user.headers, json={"timezone": zone})
    assert response.status_code == 200, response.text


async def row_counts(app: FastAPI) -> dict[str, int]:
    """Rows in the tables an upload writes to."""
    tables = Base.metadata.tables
    counts: dict[str, int] = {}
    async with app.state.sessions.reader() as session:
        for name in ("metrics", "lab_reports", "activity_events"):
            counts[name] = int((await session.execute(select(func.count()).select_from(tables[name]))).scalar_one())
    return counts


async def stored_report(app: FastAPI, lab_report_id: str) -> dict[str, Any]:
    table = Base.metadata.tables["lab_reports"]
    async with app.state.sessions.reader() as session:
        row = (await session.execute(select(table).where(table.c.id == uuid.UUID(lab_report_id)))).mappings().one()
    return dict(row)
