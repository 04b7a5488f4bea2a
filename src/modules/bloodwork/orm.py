from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from src.core.types import JSONType, UTCDateTime
from src.database import Base


class LabReportRow(Base):
    """An uploaded bloodwork document: its hash (the same file is never imported twice), where the
    original is stored, and what was found in it."""

    __tablename__ = "lab_reports"
    __table_args__ = (UniqueConstraint("identity_id", "sha256"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    identity_id: Mapped[uuid.UUID]
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str | None] = mapped_column(String(300))
    content_type: Mapped[str] = mapped_column(String(50))
    size_bytes: Mapped[int] = mapped_column(Integer)
    test_date: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The test day in the person's time zone when filed: a later change of zone does not move it.
    test_day: Mapped[date | None] = mapped_column(Date)
    # Where the test day came from: "given" (by the person), "printed" (on the report) or
    # "upload_day" (neither: the day of the upload, replaced by a later upload with a test_date).
    date_source: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20), default="upload", server_default="upload")
    parser: Mapped[str] = mapped_column(String(30))
    biomarker_count: Mapped[int] = mapped_column(Integer, default=0)
    lab_name: Mapped[str | None] = mapped_column(String(200))
    parsed: Mapped[list[dict[str, object]]] = mapped_column(JSONType, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
