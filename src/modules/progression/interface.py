"""The door into progression for other modules. Activities are credited through domain events
(see src/core/contracts.py): FastCompleted, WorkoutCompleted, WeightLogged, SocialProgress."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from uuid import UUID

from src.core.contracts import UnlockedAchievement

from .models import Streak, UserLevel


class ProgressionInterface(ABC):
    @abstractmethod
    async def level(self, identity_id: UUID) -> UserLevel: ...

    @abstractmethod
    async def levels_of(self, identity_ids: list[UUID]) -> dict[UUID, UserLevel]:
        """Levels of many people in one query (for leaderboards and profiles)."""

    @abstractmethod
    async def streaks(self, identity_id: UUID, *, zone: str | None = None) -> list[Streak]:
        """Every streak type, as the person sees it today (broken streaks read as 0)."""

    @abstractmethod
    async def unlocked_achievements(self, identity_id: UUID) -> list[UnlockedAchievement]:
        """The person's unlocked achievements, newest first (profiles and share texts)."""

    @abstractmethod
    async def total_xp_since(self, identity_ids: list[UUID], since: datetime | None) -> dict[UUID, int]:
        """XP earned since an instant (or ever), per person, in one query."""
