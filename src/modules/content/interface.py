"""The door into the content module for other modules."""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from uuid import UUID

from .models import CompletedWorkout, Recommendation, Workout, WorkoutSession, WorkoutStats


class ContentInterface(ABC):
    @abstractmethod
    async def workout(self, workout_id: UUID, *, include_exercises: bool = False) -> Workout:
        """Raises WorkoutNotFound."""

    @abstractmethod
    async def stats(self, identity_id: UUID) -> WorkoutStats:
        """Workout statistics in the person's time zone."""

    @abstractmethod
    async def completed_workouts_between(
        self, identity_id: UUID, start: datetime, end: datetime, *, limit: int = 500
    ) -> list[CompletedWorkout]:
        """Workout sessions completed in [start, end), oldest first, at most `limit`."""

    @abstractmethod
    async def completed_session(self, identity_id: UUID, session_id: UUID) -> WorkoutSession | None:
        """The person's own completed workout session with its workout, or None (not theirs, not
        completed, or unknown)."""

    @abstractmethod
    async def recommendations(self, identity_id: UUID, *, limit: int) -> list[Recommendation]:
        """Workouts for today, respecting the person's restrictions (best first)."""
