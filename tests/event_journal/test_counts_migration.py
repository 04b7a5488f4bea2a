"""The migration that creates the event counts fills them from the journal already there (on a
database of its own, of the kind the tests run on)."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path

import anyio
import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Table, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from alembic import command
from src.core.migrations import alembic_config
from src.database import Base

COUNTS_REVISION = "6d1876d583c6"


@pytest.fixture
async def scratch_url(database_url: str) -> AsyncIterator[str]:
    """An empty database beside the test database."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite+aiosqlite:///{Path(tempfile.mkdtemp(prefix='ugoki-counts-migration-')) / 'm.db'}"
        return
    parsed = make_url(database_url)
    name = f"{parsed.database}_counts_migration"
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def event(identity_id: uuid.UUID, kind: str, category: str, at: datetime) -> dict[str, object]:
    return {
        "id": uuid.uuid4(),
        "identity_id": identity_id,
        "event_type": kind,
        "category": category,
        "occurred_at": at,
        "source": "api",
        "metadata": {},
        "created_at": at,
    }


async def test_the_migration_counts_the_events_already_recorded(scratch_url: str) -> None:
    config = alembic_config(scratch_url)
    before = ScriptDirectory.from_config(config).get_revision(COUNTS_REVISION).down_revision
    assert isinstance(before, str)
    await anyio.to_thread.run_sync(command.upgrade, config, before)
    alice, bob = uuid.uuid4(), uuid.uuid4()
    events = [
        event(alice, "login", "auth", datetime(2026, 1, 31, 23, 59, 59, 999_999, tzinfo=UTC)),
        event(alice, "login", "auth", datetime(2026, 2, 1, 0, 0, tzinfo=UTC)),
        event(alice, "login", "auth", datetime(2026, 2, 1, 10, 0, tzinfo=UTC)),
        event(alice, "fast_completed", "fasting", datetime(2026, 2, 14, 6, 0, tzinfo=UTC)),
        event(bob, "login", "auth", datetime(2026, 2, 1, 10, 0, tzinfo=UTC)),
    ]
    engine = create_async_engine(scratch_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(Base.metadata.tables["activity_events"]), events)
        await anyio.to_thread.run_sync(command.upgrade, config, COUNTS_REVISION)
        counts: Table = Base.metadata.tables["activity_event_counts"]
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(
                        counts.c.identity_id,
                        counts.c.period,
                        counts.c.period_start,
                        counts.c.category,
                        counts.c.event_type,
                        counts.c.events,
                    )
                )
            ).all()
    finally:
        await engine.dispose()
    assert sorted(tuple(row) for row in rows if row[0] == alice) == sorted(
        [
            (alice, "day", date(2026, 1, 31), "auth", "login", 1),
            (alice, "day", date(2026, 2, 1), "auth", "login", 2),
            (alice, "day", date(2026, 2, 14), "fasting", "fast_completed", 1),
            (alice, "month", date(2026, 1, 1), "auth", "login", 1),
            (alice, "month", date(2026, 2, 1), "auth", "login", 2),
            (alice, "month", date(2026, 2, 1), "fasting", "fast_completed", 1),
        ]
    )
    assert sorted(tuple(row) for row in rows if row[0] == bob) == [
        (bob, "day", date(2026, 2, 1), "auth", "login", 1),
        (bob, "month", date(2026, 2, 1), "auth", "login", 1),
    ]
