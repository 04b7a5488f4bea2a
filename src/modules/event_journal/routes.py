from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Query, status

from src.core.errors import problem_schema
from src.core.rate_limit import limits
from src.core.routing import ModuleRouter
from src.core.types import UTCInstant
from src.core.validation import StorableText
from src.dependencies import CurrentIdentity, UoWDep

from .models import (
    ActivityEvent,
    EventCategory,
    EventCount,
    EventFeedItem,
    EventsAnonymized,
    EventsDeleted,
    EventSummary,
    RecordEventRequest,
)
from .service import FEED_TIE_COMPLETION_MAX, EventJournalService

router = ModuleRouter(prefix="/events", tags=["events"])


@router.get(
    "/feed",
    response_model=list[EventFeedItem],
    summary="Activity feed, newest first",
    description=(
        "Page with `before` = the `timestamp` and `before_id` = the `id` of the last item received: "
        "the next page starts right after that item, so no event is skipped or repeated however many "
        "share one instant. With `before` alone (events strictly before that instant), a page that would "
        "end in the middle of events sharing one instant (a completed fast writes several at once) is "
        f"finished with up to {FEED_TIE_COMPLETION_MAX} more of them, so it can hold a few more than "
        "`limit` items; only a larger group is cut."
    ),
    responses={422: problem_schema()},
)
async def feed(
    uow: UoWDep,
    me: CurrentIdentity,
    category: EventCategory | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    before: Annotated[UTCInstant | None, Query(description="Cursor: the timestamp of the last item received")] = None,
    before_id: Annotated[
        UUID | None,
        Query(description="Cursor: the id of the last item received (with `before`; 422 `INVALID_CURSOR` without)"),
    ] = None,
) -> list[EventFeedItem]:
    return await EventJournalService(uow).feed(
        me.identity_id, category=category, limit=limit, before=before, before_id=before_id
    )


@router.get(
    "/by-related",
    response_model=list[ActivityEvent],
    summary="The caller's events about one resource, oldest first",
    description="At most `limit` events per page; page on with `offset`.",
)
async def by_related(
    uow: UoWDep,
    me: CurrentIdentity,
    related_id: Annotated[StorableText, Query(min_length=1, max_length=64)],
    related_type: Annotated[StorableText | None, Query(max_length=30)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ActivityEvent]:
    return await EventJournalService(uow).by_related(
        me.identity_id, related_id=related_id, related_type=related_type, limit=limit, offset=offset
    )


@router.get("/summary", response_model=EventSummary, summary="Event counts by category and type")
async def summary(
    uow: UoWDep,
    me: CurrentIdentity,
    start_time: UTCInstant,
    end_time: UTCInstant,
) -> EventSummary:
    return await EventJournalService(uow).summary(me.identity_id, start_time=start_time, end_time=end_time)


@router.get("/count", response_model=EventCount, summary="How many events of one type")
async def count(
    uow: UoWDep,
    me: CurrentIdentity,
    event_type: Annotated[str, Query(min_length=1, max_length=50)],
    start_time: UTCInstant | None = None,
    end_time: UTCInstant | None = None,
) -> EventCount:
    return await EventJournalService(uow).count(
        me.identity_id, event_type=event_type, start_time=start_time, end_time=end_time
    )


@router.get(
    "/export/all",
    response_model=list[ActivityEvent],
    summary="Every event of the caller, oldest first",
    openapi_extra=limits("GDPR"),
)
async def export_all(uow: UoWDep, me: CurrentIdentity) -> list[ActivityEvent]:
    return await EventJournalService(uow).export_all(me.identity_id)


@router.delete(
    "/gdpr/delete",
    response_model=EventsDeleted,
    summary="Erase every event of the caller",
    openapi_extra=limits("GDPR"),
)
async def gdpr_delete(uow: UoWDep, me: CurrentIdentity) -> EventsDeleted:
    deleted = await EventJournalService(uow).erase(me.identity_id)
    return EventsDeleted(deleted=deleted, identity_id=me.identity_id)


@router.post(
    "/gdpr/anonymize",
    response_model=EventsAnonymized,
    summary="Detach the caller's events from the account (random, unlinkable id)",
    openapi_extra=limits("GDPR"),
)
async def gdpr_anonymize(uow: UoWDep, me: CurrentIdentity) -> EventsAnonymized:
    from uuid import uuid4

    replacement = uuid4()
    count = await EventJournalService(uow).anonymize(me.identity_id, replacement)
    return EventsAnonymized(anonymized=count, identity_id=replacement)


@router.get("", response_model=list[ActivityEvent], summary="The caller's events, newest first")
async def list_events(
    uow: UoWDep,
    me: CurrentIdentity,
    category: EventCategory | None = None,
    event_type: Annotated[str | None, Query(max_length=50)] = None,
    start_time: UTCInstant | None = None,
    end_time: UTCInstant | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[ActivityEvent]:
    return await EventJournalService(uow).list_events(
        me.identity_id,
        category=category,
        event_type=event_type,
        start_time=start_time,
        end_time=end_time,
        limit=limit,
        offset=offset,
    )


@router.post(
    "",
    response_model=ActivityEvent,
    status_code=status.HTTP_201_CREATED,
    summary="Record a client-side event (engagement types only)",
)
async def record_event(uow: UoWDep, me: CurrentIdentity, body: RecordEventRequest) -> ActivityEvent:
    return await EventJournalService(uow).record_from_client(me.identity_id, body)


@router.get("/{event_id}", response_model=ActivityEvent, summary="One of the caller's events")
async def get_event(uow: UoWDep, me: CurrentIdentity, event_id: UUID) -> ActivityEvent:
    return await EventJournalService(uow).get(me.identity_id, event_id)
