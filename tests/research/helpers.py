"""Shared by the research tests."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from src.core.uow import UnitOfWork
from src.modules.research.orm import SearchQuotaRow
from tests.http import assert_problem as assert_problem
from tests.http import ok as ok

API = "/api/v1"
RESEARCH = f"{API}/research"
TOPICS = f"{RESEARCH}/topics"
SEARCH = f"{RESEARCH}/search"
PAPERS = f"{RESEARCH}/papers"
SAVED = f"{RESEARCH}/saved"
QUOTA = f"{RESEARCH}/quota"
PREFERENCES = f"{API}/profile/preferences"
EXPORT = f"{API}/profile/export"
ALL_DATA = f"{API}/profile/all-data"
TOPIC_IDS = ("intermittent_fasting", "hiit", "nutrition", "sleep")


def online(url: str, **extra: object) -> dict[str, object]:
    """Settings of an app that searches the fake E-utilities server."""
    return {
        "research_online": True,
        "pubmed_base_url": url,
        "pubmed_backoff_seconds": 0,
        "pubmed_timeout_seconds": 2,
        "pubmed_email": "research@example.org",
        **extra,
    }


async def drain_outbox(app: FastAPI) -> int:
    return int(await app.state.resources.outbox.drain())


async def set_searches_used(app: FastAPI, identity_id: str, used: int, day: date) -> None:
    """Look behind the API: a quota row as if `used` searches had been made on `day`."""
    from datetime import UTC, datetime

    async with app.state.sessions.writer() as session:
        row = await session.get(SearchQuotaRow, uuid.UUID(identity_id))
        if row is None:
            row = SearchQuotaRow(
                identity_id=uuid.UUID(identity_id),
                day=day,
                searches_today=used,
                quota_resets_at=datetime(day.year, day.month, day.day, tzinfo=UTC),
            )
            session.add(row)
        else:
            row.day, row.searches_today = day, used
        await session.commit()


async def quota_row(app: FastAPI, identity_id: str) -> Any:
    async with app.state.sessions.reader() as session:
        return (
            await session.execute(select(SearchQuotaRow).where(SearchQuotaRow.identity_id == uuid.UUID(identity_id)))
        ).scalar_one_or_none()


def uow_for(app: FastAPI, session: Any) -> UnitOfWork:
    return UnitOfWork(session=session, resources=app.state.resources)
