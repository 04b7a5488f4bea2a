from __future__ import annotations

import uuid
from datetime import datetime, time
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from src.core.types import JSONType, UTCDateTime
from src.database import Base


class NotificationRow(Base):
    """One notification to one person: its in-app copy and the state of its delivery."""

    __tablename__ = "notifications"
    __table_args__ = (
        # What created it (an outbox message, a reminder occurrence): stored once however often
        # the worker runs the message again.
        UniqueConstraint("identity_id", "source_key"),
        Index("ix_notifications_identity_status", "identity_id", "status"),
        Index("ix_notifications_identity_created", "identity_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    identity_id: Mapped[uuid.UUID]
    source_key: Mapped[str] = mapped_column(String(200))
    notification_type: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    priority: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    failure_reason: Mapped[str | None] = mapped_column(String(40))
    in_app: Mapped[bool] = mapped_column(Boolean, default=True)
    channels_planned: Mapped[bool] = mapped_column(Boolean, default=False)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DeliveryRow(Base):
    """One channel delivery of a notification (a push to one device, an email). `external_id` is
    the Expo ticket id or the email Message-ID: once stored, the delivery is never made again."""

    __tablename__ = "notification_deliveries"
    __table_args__ = (Index("ix_notification_deliveries_ticket", "external_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    notification_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("notifications.id", ondelete="CASCADE"), index=True)
    identity_id: Mapped[uuid.UUID] = mapped_column(index=True)
    channel: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(20))
    device_token_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(String(12))  # queued, sent, recorded, delivered, error
    external_id: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DeviceTokenRow(Base):
    __tablename__ = "device_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    identity_id: Mapped[uuid.UUID] = mapped_column(index=True)
    token: Mapped[str] = mapped_column(String(500), unique=True)
    platform: Mapped[str] = mapped_column(String(10))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The sign-in that registered it (its logout deactivates the token) and a keyed hash of the
    # app's device id (proof that a later registration comes from the same device).
    session_id: Mapped[uuid.UUID | None]
    device_hash: Mapped[str | None] = mapped_column(String(64))
    deactivated_reason: Mapped[str | None] = mapped_column(String(30))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PreferencesRow(Base):
    __tablename__ = "notification_preferences"

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    push_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    in_app_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    fasting_notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    workout_notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    streak_notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    achievement_notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    motivational_notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    quiet_hours_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    quiet_hours_start: Mapped[time | None] = mapped_column(Time)
    quiet_hours_end: Mapped[time | None] = mapped_column(Time)
    daily_motivation_time: Mapped[time | None] = mapped_column(Time)
    email_address: Mapped[str | None] = mapped_column(String(320))
    # Next occurrence of each recurring reminder, as queued: {"daily_motivation": iso, ...}.
    reminder_plan: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
