"""A long history written straight to the journal's table (faster than through the API), as a
bulk load would, then counted for the summary: `count` events, one every `step`, ending just
before `end`."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import insert

from src.core.uow import UnitOfWork
from src.database import Base
from src.modules.event_journal.manifest import recount

KINDS = (("fast_completed", "fasting"), ("workout_completed", "workout"), ("weight_logged", "metrics"))


async def seed_events(
    app: FastAPI, identity_id: str | uuid.UUID, count: int, end: datetime, step: timedelta = timedelta(minutes=7)
) -> None:
    table = Base.metadata.tables["activity_events"]
    rows: list[dict[str, Any]] = []
    owner = uuid.UUID(str(identity_id))
    async with app.state.sessions.writer() as session:
        for i in range(count):
            event_type, category = KINDS[i % len(KINDS)]
            at = end - step * (count - i)
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "identity_id": owner,
                    "event_type": event_type,
                    "category": category,
                    "occurred_at": at,
                    "related_id": None,
                    "related_type": None,
                    "source": "api",
                    "metadata": {"n": i},
                    "description": None,
                    "created_at": at,
                }
            )
            if len(rows) == 5_000:
                await session.execute(insert(table), rows)
                rows = []
        if rows:
            await session.execute(insert(table), rows)
        await recount(UnitOfWork(session=session, resources=app.state.resources), owner)
        await session.commit()
