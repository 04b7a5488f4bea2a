from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from src.core.types import UTCDateTime
from src.database import Base


class HealthConsentRow(Base):
    """The person's consent to device health sync (one row per person): granted or withdrawn, on
    what basis, for which platform and privacy-policy version, and when. The history of changes
    is in the event journal (`health_consent_granted` / `health_consent_withdrawn`)."""

    __tablename__ = "health_consents"

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    basis: Mapped[str] = mapped_column(String(20))
    platform: Mapped[str | None] = mapped_column(String(30))
    policy_version: Mapped[str | None] = mapped_column(String(40))
    granted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
