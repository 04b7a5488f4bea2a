"""Notifications: in-app, Expo push and email delivery after commit, preferences, quiet hours,
devices and reminders. Other modules queue outbox topic `notification.send` (see interface.py)."""

from src.core.uow import UnitOfWork

from .errors import DeviceTokenInUse, DeviceTokenNotFound, NotificationNotFound
from .interface import NOTIFY_TOPIC, NotificationInterface
from .models import NotificationCategory, NotificationPriority, SendPayload


def notifications(uow: UnitOfWork) -> NotificationInterface:
    from .service import NotificationService

    return NotificationService(uow)


__all__ = [
    "NOTIFY_TOPIC",
    "DeviceTokenInUse",
    "DeviceTokenNotFound",
    "NotificationCategory",
    "NotificationInterface",
    "NotificationNotFound",
    "NotificationPriority",
    "SendPayload",
    "notifications",
]
