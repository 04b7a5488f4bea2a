"""Progression: the XP ledger, levels and titles, streaks and achievements."""

from src.core.uow import UnitOfWork

from .interface import ProgressionInterface
from .models import Streak, StreakType, UserLevel
from .rules import fast_streak_days


def progression(uow: UnitOfWork) -> ProgressionInterface:
    from .service import ProgressionService

    return ProgressionService(uow)


__all__ = ["ProgressionInterface", "Streak", "StreakType", "UserLevel", "fast_streak_days", "progression"]
