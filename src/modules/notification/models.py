from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, field_validator

from src.core.validation import RequestBody, StorableText


class NotificationType(StrEnum):
    PUSH = "push"
    EMAIL = "email"
    IN_APP = "in_app"


class NotificationCategory(StrEnum):
    FASTING = "fasting"
    WORKOUT = "workout"
    STREAK = "streak"
    ACHIEVEMENT = "achievement"
    LEVEL_UP = "level_up"
    REMINDER = "reminder"
    MOTIVATIONAL = "motivational"
    SOCIAL = "social"
    COACH = "coach"
    SYSTEM = "system"


class NotificationStatus(StrEnum):
    PENDING = "pending"  # held (quiet hours) or not yet delivered
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"  # not delivered: category switched off, too old, ...


class NotificationPriority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Platform(StrEnum):
    IOS = "ios"
    ANDROID = "android"
    WEB = "web"


# Celebrations are worth sending only while they are news.
CELEBRATIONS = frozenset({NotificationCategory.STREAK, NotificationCategory.ACHIEVEMENT, NotificationCategory.LEVEL_UP})


class SendPayload(BaseModel):
    """The payload of outbox topic `notification.send` — the contract for every producer.

    Queue it with `uow.enqueue(NOTIFY_TOPIC, payload.model_dump(mode="json"), identity_id=...)` (or
    the same keys as a plain dict) in the transaction that made the fact true. The notification is
    stored and delivered after commit, once, on the channels the person switched on. Keep health
    values (weights, biomarkers, sleep…) out of `title` and `body`: they travel through Apple's and
    Google's push services; put ids in `data` and let the app fetch details after the tap.
    """

    model_config = ConfigDict(extra="ignore")

    identity_id: UUID = Field(description="Who receives it")
    category: NotificationCategory = Field(description="Decides which switch applies; unknown → 422 at intake")
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=2000)
    data: dict[str, Any] = Field(default_factory=dict, description="Ids for the app (shown in-app, not pushed)")
    priority: NotificationPriority | None = Field(
        default=None, description="Default: high for celebrations, normal otherwise; urgent skips quiet hours and caps"
    )
    celebration: bool | None = Field(
        default=None,
        description=(
            "Worth sending only while it is news: dropped when older than NOTIFICATION_CELEBRATION_MAX_AGE_HOURS "
            "(default: true for streak, achievement and level_up)"
        ),
    )
    dedupe_key: str | None = Field(
        default=None,
        max_length=150,
        description="Same key for the same person → one notification (default: one per outbox message)",
    )


class SendRequest(RequestBody):
    """Admin: queue a notification for a person (yourself when `identity_id` is omitted)."""

    identity_id: UUID | None = None
    notification_type: NotificationType = Field(
        default=NotificationType.PUSH,
        description="Accepted for compatibility: the channels are the person's own switches (in-app, push, email)",
    )
    category: NotificationCategory = NotificationCategory.SYSTEM
    title: StorableText = Field(min_length=1, max_length=200)
    body: StorableText = Field(min_length=1, max_length=2000)
    data: dict[str, Any] | None = None
    priority: NotificationPriority = NotificationPriority.NORMAL


class Queued(BaseModel):
    queued: bool = True
    identity_id: UUID
    dedupe_key: str


class Notification(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: UUID
    identity_id: UUID
    notification_type: NotificationType
    category: NotificationCategory
    title: str
    body: str
    data: dict[str, Any] = Field(default_factory=dict)
    priority: NotificationPriority
    status: NotificationStatus
    scheduled_for: AwareDatetime | None = None
    sent_at: AwareDatetime | None = None
    read_at: AwareDatetime | None = None
    created_at: AwareDatetime


class MarkedRead(BaseModel):
    marked_read: int


class DeviceRegistration(RequestBody):
    token: str = Field(min_length=8, max_length=500, description="Expo push token, e.g. ExponentPushToken[…]")
    platform: Platform
    device_id: str | None = Field(
        default=None,
        min_length=16,
        max_length=255,
        description=(
            "The app's device id (the one it signs in with). A token already registered by someone else moves "
            "to the caller only when that person signed out, or when the same device id comes with a fresh sign-in."
        ),
    )

    @field_validator("token")
    @classmethod
    def _token(cls, value: str) -> str:
        value = value.strip()
        if not value.isprintable() or any(ch.isspace() for ch in value):
            raise ValueError("token must be printable without spaces")
        return value


class DeviceToken(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: UUID
    identity_id: UUID
    token: str
    platform: Platform
    is_active: bool
    last_used_at: AwareDatetime | None = None
    created_at: AwareDatetime


class Preferences(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    identity_id: UUID
    push_enabled: bool = True
    email_enabled: bool = True
    in_app_enabled: bool = True
    fasting_notifications: bool = True
    workout_notifications: bool = True
    streak_notifications: bool = True
    achievement_notifications: bool = True
    motivational_notifications: bool = True
    quiet_hours_enabled: bool = False
    quiet_hours_start: time | None = None
    quiet_hours_end: time | None = None
    daily_motivation_time: time | None = None
    email_address: str | None = Field(default=None, description="Where emails go; must be the sign-in address")


_NULLABLE = frozenset({"quiet_hours_start", "quiet_hours_end", "daily_motivation_time", "email_address"})


class PreferencesUpdate(RequestBody):
    """Only the fields sent change; `null` clears the quiet hours, the motivation time or the email."""

    push_enabled: bool | None = None
    email_enabled: bool | None = None
    in_app_enabled: bool | None = None
    fasting_notifications: bool | None = None
    workout_notifications: bool | None = None
    streak_notifications: bool | None = None
    achievement_notifications: bool | None = None
    motivational_notifications: bool | None = None
    quiet_hours_enabled: bool | None = None
    quiet_hours_start: time | None = None
    quiet_hours_end: time | None = None
    daily_motivation_time: time | None = None
    email_address: EmailStr | None = None

    @field_validator("quiet_hours_start", "quiet_hours_end", "daily_motivation_time")
    @classmethod
    def _wall_clock(cls, value: time | None) -> time | None:
        # A time of day in the person's own zone: an offset sent with it has no meaning.
        return None if value is None else value.replace(tzinfo=None, microsecond=0)

    def changes(self) -> dict[str, Any]:
        """The fields sent; booleans sent as null are refused by `check_nulls`."""
        return {name: getattr(self, name) for name in self.model_fields_set}

    def null_booleans(self) -> list[str]:
        return [name for name in self.model_fields_set if name not in _NULLABLE and getattr(self, name) is None]


class NotificationStats(BaseModel):
    total_sent: int
    total_read: int
    read_rate: float = Field(description="Percent of delivered notifications read, 1 decimal")
    by_category: dict[str, int] = Field(description="Delivered notifications per category")
