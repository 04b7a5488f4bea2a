"""The door into the time keeper for other modules."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from uuid import UUID

from .models import TimeWindow


class TimeKeeperInterface(ABC):
    @abstractmethod
    async def active_fast(self, identity_id: UUID) -> TimeWindow | None:
        """The running (or paused) fast, with elapsed time and stage, or None."""

    @abstractmethod
    async def completed_fasts_between(self, identity_id: UUID, start: datetime, end: datetime) -> list[TimeWindow]:
        """Completed fasts that ended in [start, end), oldest first."""
