"""Helpers for the event journal tests: events that only the server may write are recorded
through the module's interface, in their own committed unit of work, as a producing module
(time keeper, progression, ...) would."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any, Protocol

import pytest
from fastapi import FastAPI

from src.core.uow import UnitOfWork
from src.modules.event_journal import EventSource, EventType, event_journal
from tests.factories import User

EVENTS = "/api/v1/events"


class RecordServerEvent(Protocol):
    def __call__(
        self,
        user: User,
        event_type: EventType,
        *,
        at: datetime | None = None,
        metadata: dict[str, Any] | None = None,
        related_id: uuid.UUID | str | None = None,
        related_type: str | None = None,
        description: str | None = None,
    ) -> Awaitable[str]: ...


@pytest.fixture
def server_event(app: FastAPI) -> RecordServerEvent:
    """`await server_event(user, EventType.FAST_COMPLETED, at=..., metadata=...)` → the new event's id."""

    async def record(
        user: User,
        event_type: EventType,
        *,
        at: datetime | None = None,
        metadata: dict[str, Any] | None = None,
        related_id: uuid.UUID | str | None = None,
        related_type: str | None = None,
        description: str | None = None,
    ) -> str:
        async with app.state.sessions.writer() as session:
            uow = UnitOfWork(session=session, resources=app.state.resources)
            event = await event_journal(uow).record(
                uuid.UUID(user.id),
                event_type,
                related_id=related_id,
                related_type=related_type,
                source=EventSource.SYSTEM,
                metadata=metadata,
                description=description,
                occurred_at=at,
            )
            await session.commit()
        return str(event.id)

    return record


class RecordManyServerEvents(Protocol):
    def __call__(
        self, user: User, event_type: EventType, count: int, *, at: datetime, related_id: str | None = None
    ) -> Awaitable[list[str]]: ...


@pytest.fixture
def server_events_at_once(app: FastAPI) -> RecordManyServerEvents:
    """`await server_events_at_once(user, type, 150, at=...)`: many events of one instant, written in
    one transaction (as a producing module does) → their ids."""

    async def record(
        user: User, event_type: EventType, count: int, *, at: datetime, related_id: str | None = None
    ) -> list[str]:
        async with app.state.sessions.writer() as session:
            uow = UnitOfWork(session=session, resources=app.state.resources)
            journal = event_journal(uow)
            ids = [
                str(
                    (
                        await journal.record(
                            uuid.UUID(user.id),
                            event_type,
                            source=EventSource.SYSTEM,
                            occurred_at=at,
                            related_id=related_id,
                        )
                    ).id
                )
                for _ in range(count)
            ]
            await session.commit()
        return ids

    return record


CountRows = Callable[[str], Awaitable[int]]


@pytest.fixture
def stored_rows(app: FastAPI) -> CountRows:
    """How many journal rows the database holds under an identity id (a check no endpoint can make)."""
    from sqlalchemy import func, select

    from src.modules.event_journal.orm import ActivityEventRow

    async def count(identity_id: str) -> int:
        async with app.state.sessions.reader() as session:
            result = await session.execute(
                select(func.count())
                .select_from(ActivityEventRow)
                .where(ActivityEventRow.identity_id == uuid.UUID(identity_id))
            )
            return int(result.scalar_one())

    return count
