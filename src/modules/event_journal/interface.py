"""The door into the event journal for other modules."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from typing import Any
from uuid import UUID

from .models import ActivityEvent, EventSource, EventType


class EventJournalInterface(ABC):
    @abstractmethod
    async def record(
        self,
        identity_id: UUID,
        event_type: EventType,
        *,
        related_id: UUID | str | None = None,
        related_type: str | None = None,
        source: EventSource = EventSource.API,
        metadata: dict[str, Any] | None = None,
        description: str | None = None,
        occurred_at: datetime | None = None,
        event_id: UUID | None = None,
    ) -> ActivityEvent:
        """Append an event for `identity_id` in the caller's transaction (`event_id`: one taken
        earlier with `reserve_event_id`, to keep the event's place in causal order)."""

    @abstractmethod
    def reserve_event_id(self) -> UUID:
        """An id that orders after every event recorded so far and before every later one: an
        event written after the work it caused (a completed fast, recorded with what it earned)
        keeps its place before that work's events."""

    @abstractmethod
    async def distinct_active_days(
        self, identity_id: UUID, *, since: datetime, timezone: str, server_events_only: bool = True
    ) -> int:
        """How many calendar days (in `timezone`) since `since` have at least one event."""

    @abstractmethod
    async def last_occurred_at(self, identity_id: UUID, event_type: EventType) -> datetime | None:
        """When the person's newest event of this type happened (one indexed read), or None."""
