from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    Select,
    Table,
    and_,
    bindparam,
    delete,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy import (
    cast as sql_cast,
)

from src.core.errors import InvalidPeriod
from src.core.persistence import rowcount
from src.core.uow import UnitOfWork

from .errors import EventNotFound, EventTypeNotAllowed, InvalidCursor, TimestampOutOfRange
from .feed import describe, title_and_icon
from .interface import EventJournalInterface
from .models import (
    CLIENT_EVENT_TYPES,
    EVENT_TYPES,
    ActivityEvent,
    EventCategory,
    EventCount,
    EventFeedItem,
    EventSource,
    EventSummary,
    EventType,
    RecordEventRequest,
)
from .orm import ActivityEventCountRow, ActivityEventRow, move_pending_counts

T = ActivityEventRow
COUNTS = cast(Table, ActivityEventCountRow.__table__)
EVENTS = cast(Table, ActivityEventRow.__table__)
DAY, MONTH = "day", "month"
_last_order = 0


def ordered_event_id() -> uuid.UUID:
    """A UUID (RFC 9562 version 8) whose leading 60 bits count up in this process, starting from
    the wall clock: events sharing an instant (those of one request) read back in the order they
    were recorded, since every read orders by (instant, id)."""
    global _last_order
    _last_order = max(_last_order + 1, time.time_ns() >> 4) & ((1 << 60) - 1)
    high = ((_last_order >> 12) << 16) | (0x8 << 12) | (_last_order & 0xFFF)  # 48 bits, version, 12 bits
    low = (0b10 << 62) | secrets.randbits(62)  # variant, random
    return uuid.UUID(int=(high << 64) | low)


# At most this many events sharing the last instant of a feed page are added to finish the group.
FEED_TIE_COMPLETION_MAX = 100
EXPORT_PAGE = 1_000  # events read at once by the streamed export

_COLUMNS = (
    T.id,
    T.identity_id,
    T.event_type,
    T.category,
    T.occurred_at,
    T.related_id,
    T.related_type,
    T.source,
    T.event_metadata,
    T.description,
    T.created_at,
)


def _to_model(row: Any) -> ActivityEvent:
    return ActivityEvent(
        id=row.id,
        identity_id=row.identity_id,
        event_type=row.event_type,
        category=row.category,
        timestamp=row.occurred_at,
        related_id=row.related_id,
        related_type=row.related_type,
        source=row.source,
        metadata=row.event_metadata if isinstance(row.event_metadata, dict) else {},
        description=row.description,
        created_at=row.created_at,
    )


def _json_instant(value: datetime) -> str:
    """A UTC instant as the API writes it (`ActivityEvent` through pydantic): ISO 8601 with "Z"."""
    text = value.astimezone(UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _json_event(row: Any) -> dict[str, Any]:
    """`_to_model(row).model_dump(mode="json")` of a row of the events table, without building the
    model (the export writes every event of a history)."""
    metadata = row.metadata
    return {
        "id": str(row.id),
        "identity_id": str(row.identity_id),
        "event_type": row.event_type,
        "category": row.category,
        "timestamp": _json_instant(row.occurred_at),
        "related_id": row.related_id,
        "related_type": row.related_type,
        "source": row.source,
        "metadata": metadata if isinstance(metadata, dict) else {},
        "description": row.description,
        "created_at": _json_instant(row.created_at),
    }


class EventJournalService(EventJournalInterface):
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    # Writing -------------------------------------------------------------------------------

    async def record(
        self,
        identity_id: uuid.UUID,
        event_type: EventType,
        *,
        related_id: uuid.UUID | str | None = None,
        related_type: str | None = None,
        source: EventSource = EventSource.API,
        metadata: dict[str, Any] | None = None,
        description: str | None = None,
        occurred_at: datetime | None = None,
        event_id: uuid.UUID | None = None,
    ) -> ActivityEvent:
        info = EVENT_TYPES[EventType(event_type)]  # unknown types are a programming error
        now = self.uow.now()
        if occurred_at is not None and occurred_at.tzinfo is None:
            raise ValueError("occurred_at must be timezone-aware")  # a programming error, like an unknown type
        row = ActivityEventRow(
            id=event_id or ordered_event_id(),
            identity_id=identity_id,
            event_type=str(event_type),
            category=str(info.category),
            occurred_at=(occurred_at or now).astimezone(UTC),  # answered in UTC like every read
            related_id=str(related_id) if related_id is not None else None,
            related_type=related_type,
            source=str(source),
            event_metadata=dict(metadata or {}),
            description=description,
            created_at=now,
        )
        self.session.add(row)  # added to its day's and month's counts when the transaction commits (orm.py)
        return ActivityEvent(
            id=row.id,
            identity_id=identity_id,
            event_type=row.event_type,
            category=row.category,
            timestamp=row.occurred_at,
            related_id=row.related_id,
            related_type=related_type,
            source=row.source,
            metadata=row.event_metadata,
            description=description,
            created_at=now,
        )

    async def record_from_client(self, identity_id: uuid.UUID, request: RecordEventRequest) -> ActivityEvent:
        try:
            event_type = EventType(request.event_type)
        except ValueError:
            event_type = None
        if event_type is None or event_type not in CLIENT_EVENT_TYPES:
            raise EventTypeNotAllowed(
                f"Clients may record only these event types: {', '.join(sorted(CLIENT_EVENT_TYPES))}"
            )
        now = self.uow.now()
        skew = timedelta(seconds=self.uow.settings.event_client_skew_seconds)
        occurred_at = request.timestamp or now
        if abs(occurred_at - now) > skew:
            raise TimestampOutOfRange(
                f"timestamp must be within {int(skew.total_seconds())} seconds of the server time"
            )
        return await self.record(
            identity_id,
            event_type,
            related_id=request.related_id,
            related_type=request.related_type,
            source=request.source,
            metadata=request.metadata,
            description=request.description,
            occurred_at=occurred_at,
        )

    # Reading -------------------------------------------------------------------------------

    async def get(self, identity_id: uuid.UUID, event_id: uuid.UUID) -> ActivityEvent:
        row = (
            await self.session.execute(select(*_COLUMNS).where(T.id == event_id, T.identity_id == identity_id))
        ).first()
        if row is None:
            raise EventNotFound("Event not found")
        return _to_model(row)

    async def feed(
        self,
        identity_id: uuid.UUID,
        *,
        category: EventCategory | None,
        limit: int,
        before: datetime | None,
        before_id: uuid.UUID | None = None,
    ) -> list[EventFeedItem]:
        if before_id is not None and before is None:
            raise InvalidCursor("before_id needs before (the timestamp of the same item)")
        query = select(*_COLUMNS).where(T.identity_id == identity_id)
        if category is not None:
            query = query.where(T.category == str(category))
        if before is not None and before_id is not None:
            # Keyset: strictly after the last item received in (instant, id) order. A row comparison
            # bounds the index scan at the cursor; on SQLite (no row-value range scans in older
            # versions) the extra `occurred_at <= before` does the same.
            cursor = tuple_(
                bindparam(None, before, type_=T.occurred_at.type), bindparam(None, before_id, type_=T.id.type)
            )
            query = query.where(tuple_(T.occurred_at, T.id) < cursor, T.occurred_at <= before)
        elif before is not None:
            query = query.where(T.occurred_at < before)
        rows = list((await self.session.execute(query.order_by(T.occurred_at.desc(), T.id.desc()).limit(limit))).all())
        if len(rows) == limit:
            # Clients that page with the bare instant (`before` alone) would skip the rest of a
            # group of events sharing the last instant (a completed fast writes several in one
            # transaction): finish the group on this page, up to a bound, so that a page never
            # grows without limit. `before_id` pages correctly past any group.
            last = rows[-1]
            rest = await self.session.execute(
                query.where(T.occurred_at == last.occurred_at, T.id < last.id)
                .order_by(T.id.desc())
                .limit(FEED_TIE_COMPLETION_MAX)
            )
            rows.extend(rest.all())
        items: list[EventFeedItem] = []
        for row in rows:
            metadata = row.event_metadata if isinstance(row.event_metadata, dict) else {}
            title, icon = title_and_icon(row.event_type)
            items.append(
                EventFeedItem(
                    id=row.id,
                    event_type=row.event_type,
                    category=row.category,
                    timestamp=row.occurred_at,
                    title=title,
                    description=row.description or describe(row.event_type, metadata),
                    icon=icon,
                    metadata=metadata,
                    related_id=row.related_id,
                    related_type=row.related_type,
                )
            )
        return items

    async def list_events(
        self,
        identity_id: uuid.UUID,
        *,
        category: EventCategory | None,
        event_type: str | None,
        start_time: datetime | None,
        end_time: datetime | None,
        limit: int,
        offset: int,
    ) -> list[ActivityEvent]:
        _check_period(start_time, end_time)
        query = select(*_COLUMNS).where(T.identity_id == identity_id)
        if category is not None:
            query = query.where(T.category == str(category))
        if event_type is not None:
            query = query.where(T.event_type == event_type)
        if start_time is not None:
            query = query.where(T.occurred_at >= start_time)
        if end_time is not None:
            query = query.where(T.occurred_at < end_time)
        query = query.order_by(T.occurred_at.desc(), T.id.desc()).limit(limit).offset(offset)
        return [_to_model(row) for row in (await self.session.execute(query)).all()]

    async def by_related(
        self,
        identity_id: uuid.UUID,
        *,
        related_id: str,
        related_type: str | None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[ActivityEvent]:
        query = select(*_COLUMNS).where(T.identity_id == identity_id, T.related_id == related_id)
        if related_type is not None:
            query = query.where(T.related_type == related_type)
        query = query.order_by(T.occurred_at, T.id).limit(limit).offset(offset)
        return [_to_model(row) for row in (await self.session.execute(query)).all()]

    async def summary(self, identity_id: uuid.UUID, *, start_time: datetime, end_time: datetime) -> EventSummary:
        _check_period(start_time, end_time)
        by_category: dict[str, int] = {}
        by_type: dict[str, int] = {}
        for (category, event_type), count in (await self._tally(identity_id, start_time, end_time)).items():
            by_category[category] = by_category.get(category, 0) + count
            by_type[event_type] = by_type.get(event_type, 0) + count
        return EventSummary(
            total_events=sum(by_type.values()),
            events_by_category=by_category,
            events_by_type=by_type,
            period_start=start_time,
            period_end=end_time,
        )

    async def count(
        self,
        identity_id: uuid.UUID,
        *,
        event_type: str,
        start_time: datetime | None,
        end_time: datetime | None,
    ) -> EventCount:
        _check_period(start_time, end_time)
        tally = await self._tally(identity_id, start_time, end_time, event_type=event_type)
        return EventCount(event_type=event_type, count=sum(tally.values()))

    # Counts by day and month ----------------------------------------------------------------

    async def _tally(
        self,
        identity_id: uuid.UUID,
        start: datetime | None,
        end: datetime | None,
        *,
        event_type: str | None = None,
    ) -> dict[tuple[str, str], int]:
        """How many of the person's events fall in [start, end) (None: unbounded), by (category,
        type). Whole months are read from the month counts, the whole days around them from the
        day counts, and only the parts of a day at either end from the events themselves: per
        category and type, one row a month and at most 61 day rows, plus two days of events,
        however many events the history holds."""
        c, t = COUNTS.c, EVENTS.c
        own_counts = [c.identity_id == identity_id] + ([c.event_type == event_type] if event_type else [])
        own_events = [t.identity_id == identity_id] + ([t.event_type == event_type] if event_type else [])
        scanned: list[ColumnElement[bool]] = []  # ranges of instants read from the events
        counted: list[ColumnElement[bool]] = []  # ranges of days or months read from the counts

        def between(column: Any, low: Any, high: Any) -> ColumnElement[bool]:
            bounds = ([column >= low] if low is not None else []) + ([column < high] if high is not None else [])
            return and_(true(), *bounds)

        whole = _whole_days(start, end)
        if whole is None:  # less than a whole UTC day, or one day and parts of its neighbours
            scanned.append(between(t.occurred_at, start, end))
        else:
            first_day, end_day = whole
            if start is not None and first_day is not None and start < _midnight(first_day):
                scanned.append(between(t.occurred_at, start, _midnight(first_day)))
            if end is not None and end_day is not None and _midnight(end_day) < end:
                scanned.append(between(t.occurred_at, _midnight(end_day), end))
            months, days = _whole_months(first_day, end_day)
            if months is not None:
                counted.append(and_(c.period == MONTH, between(c.period_start, *months)))
            counted.extend(and_(c.period == DAY, between(c.period_start, low, high)) for low, high in days)
        # One statement; each part one condition (PostgreSQL reads the ranges of an OR along the
        # index together, where a UNION of one part per range may start parallel workers).
        parts: list[Select[Any]] = []
        if scanned:
            parts.append(
                select(t.category, t.event_type, func.count())
                .where(*own_events, or_(*scanned))
                .group_by(t.category, t.event_type)
            )
        if counted:
            parts.append(
                select(c.category, c.event_type, func.sum(c.events))
                .where(*own_counts, or_(*counted))
                .group_by(c.category, c.event_type)
            )
        statement = parts[0] if len(parts) == 1 else union_all(*parts)
        tally: dict[tuple[str, str], int] = {}
        for category, kind, count in (await self.session.execute(statement)).all():
            if count:
                tally[(category, kind)] = tally.get((category, kind), 0) + int(count)
        return tally

    async def recount(self, identity_id: uuid.UUID | None = None) -> None:
        """Rebuild the day and month counts of one person (None: everyone) from the events
        (operations: after events were written around `record`, e.g. a bulk load)."""
        c, t = COUNTS.c, EVENTS.c
        await self.session.execute(
            delete(COUNTS).where(c.identity_id == identity_id) if identity_id is not None else delete(COUNTS)
        )
        for period in (DAY, MONTH):
            bucket = self._bucket(period)
            grouped = (
                select(t.identity_id, literal(period), bucket, t.category, t.event_type, func.count())
                .where(*([t.identity_id == identity_id] if identity_id is not None else []))
                .group_by(t.identity_id, bucket, t.category, t.event_type)
            )
            columns = ["identity_id", "period", "period_start", "category", "event_type", "events"]
            await self.session.execute(COUNTS.insert().from_select(columns, grouped))

    def _bucket(self, period: str) -> ColumnElement[Any]:
        """The UTC day, or the first day of the UTC month, of an event, in SQL."""
        occurred = EVENTS.c.occurred_at
        if self.session.get_bind().dialect.name == "postgresql":
            utc = func.timezone(literal_column("'UTC'"), occurred)
            if period == MONTH:
                utc = func.date_trunc(literal_column("'month'"), utc)
            return sql_cast(utc, Date)
        # SQLite keeps instants as UTC text ("YYYY-MM-DD HH:MM:SS...").
        if period == MONTH:
            return func.strftime(literal_column("'%Y-%m-01'"), occurred)
        return func.date(occurred)

    def reserve_event_id(self) -> uuid.UUID:
        return ordered_event_id()

    async def distinct_active_days(
        self, identity_id: uuid.UUID, *, since: datetime, timezone: str, server_events_only: bool = True
    ) -> int:
        query = select(T.occurred_at).where(T.identity_id == identity_id, T.occurred_at >= since)
        if server_events_only:
            query = query.where(T.event_type.not_in([str(t) for t in CLIENT_EVENT_TYPES]))
        zone = ZoneInfo(timezone)
        days = {ts.astimezone(zone).date() for ts in (await self.session.execute(query)).scalars()}
        return len(days)

    async def last_occurred_at(self, identity_id: uuid.UUID, event_type: EventType) -> datetime | None:
        query = select(func.max(T.occurred_at)).where(T.identity_id == identity_id, T.event_type == str(event_type))
        return (await self.session.execute(query)).scalar_one_or_none()

    # Personal data -------------------------------------------------------------------------

    async def export_all(self, identity_id: uuid.UUID) -> list[ActivityEvent]:
        query = select(*_COLUMNS).where(T.identity_id == identity_id).order_by(T.occurred_at, T.id)
        return [_to_model(row) for row in (await self.session.execute(query)).all()]

    async def export_rows(self, identity_id: uuid.UUID) -> AsyncIterator[dict[str, Any]]:
        """`export_all`, one JSON-ready event at a time, read from the database in pages."""
        e = EVENTS.c
        query = select(EVENTS).where(e.identity_id == identity_id).order_by(e.occurred_at, e.id)
        result = await self.session.stream(query.execution_options(yield_per=EXPORT_PAGE))
        async for row in result:
            yield _json_event(row)

    async def erase(self, identity_id: uuid.UUID) -> int:
        result = await self.session.execute(delete(T).where(T.identity_id == identity_id))  # flushes first
        await self.session.execute(delete(COUNTS).where(COUNTS.c.identity_id == identity_id))
        move_pending_counts(self.session.sync_session, identity_id, None)
        return rowcount(result)

    async def anonymize(self, identity_id: uuid.UUID, replacement_id: uuid.UUID) -> int:
        result = await self.session.execute(
            update(T)
            .where(T.identity_id == identity_id)
            .values(identity_id=replacement_id, event_metadata={}, description=None, related_id=None)
        )
        await self.session.execute(
            update(COUNTS).where(COUNTS.c.identity_id == identity_id).values(identity_id=replacement_id)
        )
        move_pending_counts(self.session.sync_session, identity_id, replacement_id)
        return rowcount(result)

    async def purge_older_than(self, cutoff: datetime) -> int:
        """Delete every event before `cutoff`, and its share of the counts: the days and months
        wholly before it go; the day and the month it falls in lose the events purged from them."""
        c, t = COUNTS.c, EVENTS.c
        cutoff = cutoff.astimezone(UTC)
        day = cutoff.date()
        month = day.replace(day=1)
        for period, start in ((DAY, day), (MONTH, month)):
            if _midnight(start) < cutoff:
                purged = (
                    select(func.count())
                    .where(
                        t.identity_id == c.identity_id,
                        t.category == c.category,
                        t.event_type == c.event_type,
                        t.occurred_at >= _midnight(start),
                        t.occurred_at < cutoff,
                    )
                    .scalar_subquery()
                )
                await self.session.execute(
                    update(COUNTS).where(c.period == period, c.period_start == start).values(events=c.events - purged)
                )
        result = await self.session.execute(delete(T).where(T.occurred_at < cutoff))
        for period, start in ((DAY, day), (MONTH, month)):
            await self.session.execute(delete(COUNTS).where(c.period == period, c.period_start < start))
            await self.session.execute(delete(COUNTS).where(c.period == period, c.period_start == start, c.events <= 0))
        return rowcount(result)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, clock_time(), tzinfo=UTC)


def _whole_days(start: datetime | None, end: datetime | None) -> tuple[date | None, date | None] | None:
    """The UTC days [first, end) wholly inside [start, end) (None: unbounded), or None when there
    is no whole day between them."""
    first: date | None = None
    if start is not None:
        first = start.astimezone(UTC).date()
        if _midnight(first) < start:
            if first == date.max:
                return None
            first += timedelta(days=1)
    last = end.astimezone(UTC).date() if end is not None else None
    if first is not None and last is not None and first >= last:
        return None
    return first, last


def _whole_months(
    first: date | None, end: date | None
) -> tuple[tuple[date | None, date | None] | None, list[tuple[date | None, date | None]]]:
    """How the whole days [first, end) (None: unbounded) split into the whole months inside them
    ([first month, end month) of month starts, or None) and the day ranges before and after."""
    end_month = end.replace(day=1) if end is not None else None
    first_month = first
    if first is not None and first.day != 1:
        if end_month is not None and first >= end_month:
            return None, [(first, end)]  # within one month
        if first.year == date.max.year and first.month == 12:
            return None, [(first, end)]
        first_month = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    if first_month is not None and end_month is not None and first_month >= end_month:
        return None, [(first, end)]
    days: list[tuple[date | None, date | None]] = []
    if first is not None and first_month is not None and first < first_month:
        days.append((first, first_month))
    if end is not None and end_month is not None and end_month < end:
        days.append((end_month, end))
    return (first_month, end_month), days


def _check_period(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end <= start:
        raise InvalidPeriod("end_time must be after start_time")
