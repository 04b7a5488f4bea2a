"""The door into the social module for other modules.

Outbox messages this module queues (in the transaction of the change):

* `notification.send` — the same topic and payload as progression's, for the notification module:
  `{"identity_id": "<recipient>", "category": "social", "title": str, "body": str, "data": {...}}`
  with the message's `identity_id` set to the recipient. `data.type` is one of
  - `friend_request`: `{"type", "request_id", "from_id"}` to the person asked;
  - `friend_accepted`: `{"type", "friend_id"}` to the person who asked;
  - `challenge_joined`: `{"type", "challenge_id", "participant_id"}` to the challenge's creator;
  - `challenge_won` / `challenge_finished`: `{"type", "challenge_id", "rank"}` to every participant
    when the challenge is decided.
* `social.challenge_close` — `{"challenge_id": "<uuid>"}`, available when the challenge's last day
  is over in every time zone; handled by this module (decides the winner once, freezes ranks).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import date
from uuid import UUID

from .models import ChallengeDates

NOTIFY_TOPIC = "notification.send"
CHALLENGE_CLOSE_TOPIC = "social.challenge_close"


class SocialInterface(ABC):
    @abstractmethod
    async def friend_ids(self, identity_id: UUID) -> set[UUID]:
        """The person's accepted friends."""

    @abstractmethod
    async def challenges_of(
        self, identity_id: UUID, *, ending_on_or_after: date | None = None, limit: int = 200
    ) -> list[ChallengeDates]:
        """The challenges the person takes part in (latest start first, at most `limit`): names,
        types and dates only, never progress. `ending_on_or_after` leaves out those that ended
        before that day."""
