from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import CheckConstraint, Index, Integer, String, Table, event
from sqlalchemy.orm import Mapped, Session, SessionTransaction, UOWTransaction, mapped_column

from src.core.persistence import add_to_counters
from src.core.types import JSONType, UTCDateTime
from src.database import Base


class ActivityEventRow(Base):
    """Append-only: rows are inserted, read, and deleted or anonymised for GDPR; never updated
    otherwise."""

    __tablename__ = "activity_events"
    __table_args__ = (
        # The feed's keyset (occurred_at, id) and, on PostgreSQL, the summary's counts (index only).
        Index(
            "ix_activity_events_identity_occurred_id",
            "identity_id",
            "occurred_at",
            "id",
            postgresql_include=["category", "event_type"],
        ),
        Index("ix_activity_events_identity_category", "identity_id", "category", "occurred_at"),
        Index("ix_activity_events_identity_type", "identity_id", "event_type", "occurred_at"),
        Index("ix_activity_events_identity_related", "identity_id", "related_id"),
        Index("ix_activity_events_occurred", "occurred_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    identity_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(50))
    category: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    related_id: Mapped[str | None] = mapped_column(String(64))
    related_type: Mapped[str | None] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(String(20))
    event_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    description: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ActivityEventCountRow(Base):
    """How many events of one category and type a person has in one UTC day or month: the
    summary and the counts read these instead of the events, so their cost does not grow with a
    person's history. Added to when the transaction that writes the events commits (below);
    kept in step by retention, erasure and anonymisation."""

    __tablename__ = "activity_event_counts"
    # Only the primary key: every read is one person's range of days or months along it (the
    # retention purge, once a day, scans the table).
    __table_args__ = (CheckConstraint("period IN ('day', 'month')", name="period"),)

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(5), primary_key=True)  # "day" or "month"
    period_start: Mapped[date] = mapped_column(primary_key=True)  # the day, or the month's first day
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(50), primary_key=True)
    events: Mapped[int] = mapped_column(Integer)


def day_and_month_counts(events: list[ActivityEventRow]) -> list[dict[str, object]]:
    """The rows that add `events` to their UTC day's and month's counts."""
    rows: list[dict[str, object]] = []
    for row in events:
        day = row.occurred_at.astimezone(UTC).date()
        for period, start in (("day", day), ("month", day.replace(day=1))):
            rows.append(
                {
                    "identity_id": row.identity_id,
                    "period": period,
                    "period_start": start,
                    "category": row.category,
                    "event_type": row.event_type,
                    "events": 1,
                }
            )
    return rows


# Counts of events already flushed, to be written when their transaction commits: (the
# transaction or savepoint that was innermost at the flush, rows to add).
_PENDING = "event_journal.pending_counts"


def _innermost(session: Session) -> SessionTransaction | None:
    return session.get_nested_transaction() or session.get_transaction()


@event.listens_for(Session, "after_flush")
def _note_flushed_events(session: Session, _context: UOWTransaction) -> None:
    events = [row for row in session.new if isinstance(row, ActivityEventRow)]
    if events:
        session.info.setdefault(_PENDING, []).append((_innermost(session), day_and_month_counts(events)))


@event.listens_for(Session, "before_commit")
def _write_counts(session: Session) -> None:
    """Every event the transaction wrote is added to its counts by one upsert, as the transaction
    commits (`Session.commit` releases open savepoints first): the counts commit with the events,
    and the count rows are locked only for the commit, always in the same order (no deadlock
    between two commits)."""
    if session.get_nested_transaction() is not None:
        return  # a savepoint is released: its events are counted with the transaction's
    session.flush()  # what is still pending is counted too
    pending = session.info.pop(_PENDING, None)
    if not pending:
        return
    connection = session.connection()
    counts = cast(Table, ActivityEventCountRow.__table__)
    rows = [row for _, rows in pending for row in rows]
    upsert = add_to_counters(counts, rows, counter="events")
    if upsert is not None:
        hot, params = upsert
        hot.execute_sync(connection, **params)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back(session: Session, previous: SessionTransaction) -> None:
    """Events of a transaction or savepoint that was rolled back are not counted."""
    pending = session.info.get(_PENDING)
    if pending:
        session.info[_PENDING] = [(owner, rows) for owner, rows in pending if not _within(owner, previous)]


@event.listens_for(Session, "after_transaction_end")
def _forget_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the session's transaction ended (committed, rolled back or closed)
        session.info.pop(_PENDING, None)


def move_pending_counts(session: Session, identity_id: uuid.UUID, replacement: uuid.UUID | None) -> None:
    """The not yet written counts of `identity_id`'s events go to `replacement` (anonymisation),
    or away (None: erasure), as their events did in this transaction."""
    pending = session.info.get(_PENDING)
    if not pending:
        return
    moved: list[tuple[SessionTransaction | None, list[dict[str, object]]]] = []
    for owner, rows in pending:
        if replacement is None:
            rows = [row for row in rows if row["identity_id"] != identity_id]
        else:
            rows = [{**row, "identity_id": replacement} if row["identity_id"] == identity_id else row for row in rows]
        moved.append((owner, rows))
    session.info[_PENDING] = moved


def _within(owner: SessionTransaction | None, ancestor: SessionTransaction) -> bool:
    while owner is not None:
        if owner is ancestor:
            return True
        owner = owner.parent
    return False
