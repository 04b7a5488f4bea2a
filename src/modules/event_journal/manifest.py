from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
from uuid import UUID

from src.core.gdpr import PersonalData
from src.core.modules import ModuleManifest
from src.core.uow import UnitOfWork

from .routes import router
from .service import EventJournalService


async def purge_older_than(uow: UnitOfWork, cutoff: datetime) -> int:
    """Operations (scripts/maintenance.py): retention, deleting every event (of every identity)
    older than `cutoff`; the count."""
    return await EventJournalService(uow).purge_older_than(cutoff)


async def recount(uow: UnitOfWork, identity_id: UUID | None = None) -> None:
    """Operations: rebuild the day and month counts the summary reads, of one identity (None:
    all), from the events (after events were loaded around the journal, e.g. in bulk)."""
    await EventJournalService(uow).recount(identity_id)


async def _export(uow: UnitOfWork, identity_id: UUID) -> list[dict[str, object]]:
    events = await EventJournalService(uow).export_all(identity_id)
    return [event.model_dump(mode="json") for event in events]


def _export_rows(uow: UnitOfWork, identity_id: UUID) -> AsyncIterator[dict[str, Any]]:
    return EventJournalService(uow).export_rows(identity_id)


async def _erase(uow: UnitOfWork, identity_id: UUID) -> int:
    return await EventJournalService(uow).erase(identity_id)


async def _anonymize(uow: UnitOfWork, identity_id: UUID, replacement_id: UUID) -> int:
    return await EventJournalService(uow).anonymize(identity_id, replacement_id)


MANIFEST = ModuleManifest(
    name="event_journal",
    router=router,
    personal_data=PersonalData(
        module="event_journal",
        tables=("activity_events", "activity_event_counts"),
        export=_export,
        erase=_erase,
        anonymize=_anonymize,
        order=900,
        export_rows=_export_rows,
    ),
)
