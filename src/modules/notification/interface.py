"""The door into notifications for other modules.

Producers do not call this module: they queue outbox topic `notification.send` in their own
transaction (payload: `SendPayload`, see models.py), e.g.

    uow.enqueue(NOTIFY_TOPIC, {"identity_id": str(person), "category": "social",
                               "title": "New friend request", "body": "Ana wants to be your friend",
                               "data": {"request_id": str(request.id)}}, identity_id=person)

`category` is one of NotificationCategory (fasting, workout, streak, achievement, level_up,
reminder, motivational, social, coach, system); `priority` (low/normal/high/urgent) is optional;
`dedupe_key` (optional, ≤150 chars) makes repeated messages about the same thing one notification;
`celebration` (optional) marks news that is dropped when the worker gets to it too late (default:
true for streak, achievement and level_up). Social should use category `social` (friend requests,
challenge updates), the coach `coach`; both are always on (no category switch) but follow the
channel switches, quiet hours and the hourly push cap.
Delivery happens after commit: the in-app copy first, then push and email as the person's
switches, quiet hours (in their zone) and the hourly push cap allow; celebrations older than
NOTIFICATION_CELEBRATION_MAX_AGE_HOURS are dropped. Titles and
bodies must hold no health values (weights, biomarkers): they leave through Apple's and Google's
push services; put ids in `data` and let the app fetch the details after the tap.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from uuid import UUID

from .models import SendPayload

NOTIFY_TOPIC = "notification.send"


class NotificationInterface(ABC):
    @abstractmethod
    def queue(self, payload: SendPayload) -> None:
        """Queue `payload` on `notification.send` in the caller's transaction (same as enqueueing it)."""

    @abstractmethod
    async def unread_count(self, identity_id: UUID) -> int: ...
