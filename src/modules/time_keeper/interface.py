"""The door into the time keeper for other modules."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from uuid import UUID

from .models import OpenWindowRequest, TimeWindow


class TimeKeeperInterface(ABC):
    @abstractmethod
    async def active_fast(self, identity_id: UUID) -> TimeWindow | None:
        """The running (or paused) fast, with elapsed time and stage, or None."""

    @abstractmethod
    async def completed_fasts_between(self, identity_id: UUID, start: datetime, end: datetime) -> list[TimeWindow]:
        """Completed fasts that ended in [start, end), oldest first."""

    @abstractmethod
    async def log_fast(self, identity_id: UUID, request: OpenWindowRequest) -> TimeWindow:
        """Log a finished past fast (`end_time` set) with the rules of the API: at most 7 days
        back, no overlap with another fast, credited like any completed fast. Raises the API's errors."""
