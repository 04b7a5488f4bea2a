from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

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
    person's history. Written in the transaction of every append (an upsert that adds, safe
    under concurrent appends); kept in step by retention, erasure and anonymisation."""

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
