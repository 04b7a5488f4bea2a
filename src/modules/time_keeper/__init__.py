"""Time keeper: the fasting timer (fasts with protocols, pauses and stages) and eating,
workout and recovery windows."""

from src.core.uow import UnitOfWork

from .interface import TimeKeeperInterface
from .models import OpenWindowRequest, TimeWindow, WindowState, WindowType


def time_keeper(uow: UnitOfWork) -> TimeKeeperInterface:
    from .service import TimeKeeperService

    return TimeKeeperService(uow)


__all__ = ["OpenWindowRequest", "TimeKeeperInterface", "TimeWindow", "WindowState", "WindowType", "time_keeper"]
