from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from src.core.types import JSONType, UTCDateTime
from src.database import Base

OPEN_STATES = ("active", "paused")
_OPEN = text("state IN ('active', 'paused')")


class TimeWindowRow(Base):
    __tablename__ = "time_windows"
    __table_args__ = (
        # At most one open (active or paused) window per person and type: concurrent opens
        # cannot both succeed.
        Index(
            "uq_time_windows_one_open_per_type",
            "identity_id",
            "window_type",
            unique=True,
            postgresql_where=_OPEN,
            sqlite_where=_OPEN,
        ),
        Index("ix_time_windows_identity_start", "identity_id", "start_time"),
        Index("ix_time_windows_identity_state", "identity_id", "state"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    identity_id: Mapped[uuid.UUID]
    window_type: Mapped[str] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20))
    start_time: Mapped[datetime] = mapped_column(UTCDateTime())
    end_time: Mapped[datetime | None] = mapped_column(UTCDateTime())
    scheduled_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    protocol: Mapped[str | None] = mapped_column(String(10))
    target_seconds: Mapped[int | None] = mapped_column(Integer)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paused_seconds: Mapped[int] = mapped_column(Integer, default=0)
    # Ended pauses, oldest first: [{"started_at": iso, "ended_at": iso}]; the running one is
    # `paused_at`. Their lengths add up to `paused_seconds` (older rows may lack the list).
    pauses: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list, server_default=text("'[]'"))
    window_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
