"""Event journal: the append-only activity log (feed, summaries, audit of health-data access)."""

from src.core.uow import UnitOfWork

from .errors import EventNotFound
from .interface import EventJournalInterface
from .models import (
    CLIENT_EVENT_TYPES,
    EVENT_TYPES,
    ActivityEvent,
    EventCategory,
    EventSource,
    EventType,
)


def event_journal(uow: UnitOfWork) -> EventJournalInterface:
    from .service import EventJournalService

    return EventJournalService(uow)


__all__ = [
    "CLIENT_EVENT_TYPES",
    "EVENT_TYPES",
    "ActivityEvent",
    "EventCategory",
    "EventJournalInterface",
    "EventNotFound",
    "EventSource",
    "EventType",
    "event_journal",
]
