from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from src.core.types import UTCDateTime
from src.database import Base


class MetricRow(Base):
    """One measurement. The same (person, type, source, instant) is one measurement: writing it
    again updates it, so re-syncing a device or re-importing a report changes nothing. A daily
    total (steps, sleep…) also carries its local `day`, and the same (person, type, source, day) is
    one total, even when the person's time zone (and so the instant of that day's midnight) changed."""

    __tablename__ = "metrics"
    __table_args__ = (
        UniqueConstraint("identity_id", "metric_type", "source", "timestamp"),
        UniqueConstraint("identity_id", "metric_type", "source", "day"),
        Index("ix_metrics_identity_type_timestamp", "identity_id", "metric_type", "timestamp"),
        Index("ix_metrics_identity_timestamp", "identity_id", "timestamp"),
        Index("ix_metrics_lab_report", "lab_report_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    identity_id: Mapped[uuid.UUID]
    metric_type: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column(Float)
    value_text: Mapped[str | None] = mapped_column(String(50))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime())
    day: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str | None] = mapped_column(String(50))
    reference_low: Mapped[float | None] = mapped_column(Float)
    reference_high: Mapped[float | None] = mapped_column(Float)
    flag: Mapped[str | None] = mapped_column(String(20))
    # A lab result as printed, when its series keeps another unit (see lab_units.py).
    original_value: Mapped[float | None] = mapped_column(Float)
    original_unit: Mapped[str | None] = mapped_column(String(50))
    # The bloodwork report the value was read from (bloodwork's table; cleared when it goes).
    lab_report_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lab_reports.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
