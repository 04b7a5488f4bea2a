"""Shared by the bloodwork tests: the routes, the upload call, the reads the app makes after an
upload (grouped results, a series), the answer checks, and rows and files read straight from the
database and storage (what a repeated or refused upload must not change)."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from src.database import Base
from tests.factories import User

# The shared answer checks, re-exported for the tests of this package.
from tests.http import assert_problem as assert_problem
from tests.http import ok as ok

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


async def uploaded(
    client: httpx.AsyncClient,
    user: User,
    data: bytes,
    *,
    filename: str = "report.pdf",
    content_type: str = "application/pdf",
    params: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Upload a report that must be accepted (200); the answer's body."""
    return ok(  # type: ignore[no-any-return]
        await upload(client, user, data, filename=filename, content_type=content_type, params=params)
    )


async def grouped(client: httpx.AsyncClient, user: User) -> list[dict[str, Any]]:
    """The person's lab results grouped by test date, newest first."""
    return ok(await client.get(GROUPED, headers=user.headers))  # type: ignore[no-any-return]


async def history(client: httpx.AsyncClient, user: User, metric_type: str) -> list[dict[str, Any]]:
    """The person's points of one series, newest first."""
    return ok(  # type: ignore[no-any-return]
        await client.get(HISTORY, headers=user.headers, params={"metric_type": metric_type})
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


def stored_files(app: FastAPI, pattern: str = "*.*") -> list[Path]:
    """Files kept in upload storage."""
    return list((app.state.resources.settings.data_dir / "uploads").rglob(pattern))


async def assert_nothing_stored(app: FastAPI) -> None:
    """No result, no lab report and no file was kept."""
    counts = await row_counts(app)
    assert (counts["metrics"], counts["lab_reports"]) == (0, 0)
    assert stored_files(app) == []
