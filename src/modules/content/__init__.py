"""Content: the workout catalogue, workout sessions, recommendations and stats, and recipes."""

from src.core.uow import UnitOfWork

from .interface import ContentInterface
from .models import CompletedWorkout, Recommendation, Workout, WorkoutSession, WorkoutStats


def content(uow: UnitOfWork) -> ContentInterface:
    from .service import ContentService

    return ContentService(uow)


__all__ = [
    "CompletedWorkout",
    "ContentInterface",
    "Recommendation",
    "Workout",
    "WorkoutSession",
    "WorkoutStats",
    "content",
]
