from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from src.core.validation import RequestBody, StorableText, check_storable_json


class EventCategory(StrEnum):
    AUTH = "auth"
    FASTING = "fasting"
    WORKOUT = "workout"
    PROGRESSION = "progression"
    PROFILE = "profile"
    METRICS = "metrics"
    COACH = "coach"
    CONTENT = "content"
    SOCIAL = "social"
    PRIVACY = "privacy"
    APP = "app"


class EventSource(StrEnum):
    API = "api"
    MOBILE = "mobile"
    WEB = "web"
    SCHEDULED = "scheduled"
    SYSTEM = "system"


CLIENT_SOURCES = frozenset({EventSource.API, EventSource.MOBILE, EventSource.WEB})


class EventType(StrEnum):
    # auth
    IDENTITY_CREATED = "identity_created"
    LOGIN = "login"
    LOGOUT = "logout"
    ACCOUNT_UPGRADED = "account_upgraded"
    SESSION_REVOKED = "session_revoked"
    PERSONAL_TOKEN_CREATED = "personal_token_created"  # noqa: S105 - event names, not secrets
    PERSONAL_TOKEN_REVOKED = "personal_token_revoked"  # noqa: S105
    PERSONAL_TOKEN_USED = "personal_token_used"  # noqa: S105
    # fasting
    FAST_STARTED = "fast_started"
    FAST_PAUSED = "fast_paused"
    FAST_RESUMED = "fast_resumed"
    FAST_COMPLETED = "fast_completed"
    FAST_ABANDONED = "fast_abandoned"
    FAST_EXTENDED = "fast_extended"
    FAST_LOGGED = "fast_logged"
    FAST_START_CORRECTED = "fast_start_corrected"
    EATING_WINDOW_STARTED = "eating_window_started"
    EATING_WINDOW_ENDED = "eating_window_ended"
    # workout
    WORKOUT_STARTED = "workout_started"
    WORKOUT_COMPLETED = "workout_completed"
    WORKOUT_ABANDONED = "workout_abandoned"
    WORKOUT_RATED = "workout_rated"
    # progression
    XP_EARNED = "xp_earned"
    LEVEL_UP = "level_up"
    STREAK_INCREMENTED = "streak_incremented"
    STREAK_RESET = "streak_reset"
    ACHIEVEMENT_UNLOCKED = "achievement_unlocked"
    # profile
    PROFILE_CREATED = "profile_created"
    PROFILE_UPDATED = "profile_updated"
    GOALS_UPDATED = "goals_updated"
    PREFERENCES_UPDATED = "preferences_updated"
    # metrics
    WEIGHT_LOGGED = "weight_logged"
    BIOMARKER_UPLOADED = "biomarker_uploaded"
    METRIC_RECORDED = "metric_recorded"
    HEALTH_SYNCED = "health_synced"
    # coach
    COACH_MESSAGE_SENT = "coach_message_sent"
    COACH_INSIGHT_VIEWED = "coach_insight_viewed"
    # content
    RECIPE_SAVED = "recipe_saved"
    RECIPE_UNSAVED = "recipe_unsaved"
    # social
    FRIEND_REQUEST_SENT = "friend_request_sent"
    FRIEND_REQUEST_ACCEPTED = "friend_request_accepted"
    FRIEND_REQUEST_DECLINED = "friend_request_declined"
    FRIEND_REMOVED = "friend_removed"
    USER_BLOCKED = "user_blocked"
    USER_UNBLOCKED = "user_unblocked"
    FOLLOW_STARTED = "follow_started"
    FOLLOW_ENDED = "follow_ended"
    CHALLENGE_CREATED = "challenge_created"
    CHALLENGE_JOINED = "challenge_joined"
    CHALLENGE_LEFT = "challenge_left"
    CHALLENGE_COMPLETED = "challenge_completed"
    CHALLENGE_WON = "challenge_won"
    SHARE_CREATED = "share_created"
    # privacy (audit of reads of health data, exports)
    HEALTH_DATA_ACCESSED = "health_data_accessed"
    DATA_EXPORTED = "data_exported"
    HEALTH_CONSENT_GRANTED = "health_consent_granted"
    HEALTH_CONSENT_WITHDRAWN = "health_consent_withdrawn"
    HEALTH_DATA_DELETED = "health_data_deleted"
    # app (client-reported engagement)
    APP_OPENED = "app_opened"
    WORKOUT_VIEWED = "workout_viewed"
    RECIPE_VIEWED = "recipe_viewed"
    RESEARCH_VIEWED = "research_viewed"


@dataclass(frozen=True)
class EventTypeInfo:
    category: EventCategory
    title: str
    icon: str
    client_allowed: bool = False


def _info(category: EventCategory, title: str, icon: str, client: bool = False) -> EventTypeInfo:
    return EventTypeInfo(category, title, icon, client)


C = EventCategory
EVENT_TYPES: dict[EventType, EventTypeInfo] = {
    EventType.IDENTITY_CREATED: _info(C.AUTH, "Account Created", "user-plus"),
    EventType.LOGIN: _info(C.AUTH, "Logged In", "log-in"),
    EventType.LOGOUT: _info(C.AUTH, "Logged Out", "log-out"),
    EventType.ACCOUNT_UPGRADED: _info(C.AUTH, "Account Secured", "shield"),
    EventType.SESSION_REVOKED: _info(C.AUTH, "Signed Out Everywhere", "shield-off"),
    EventType.PERSONAL_TOKEN_CREATED: _info(C.AUTH, "Access Token Created", "key"),
    EventType.PERSONAL_TOKEN_REVOKED: _info(C.AUTH, "Access Token Revoked", "key"),
    EventType.PERSONAL_TOKEN_USED: _info(C.AUTH, "Access Token Used", "key"),
    EventType.FAST_STARTED: _info(C.FASTING, "Fast Started", "clock"),
    EventType.FAST_PAUSED: _info(C.FASTING, "Fast Paused", "pause"),
    EventType.FAST_RESUMED: _info(C.FASTING, "Fast Resumed", "play"),
    EventType.FAST_COMPLETED: _info(C.FASTING, "Fast Completed", "check-circle"),
    EventType.FAST_ABANDONED: _info(C.FASTING, "Fast Ended Early", "x-circle"),
    EventType.FAST_EXTENDED: _info(C.FASTING, "Fast Extended", "plus-circle"),
    EventType.FAST_LOGGED: _info(C.FASTING, "Past Fast Logged", "calendar"),
    EventType.FAST_START_CORRECTED: _info(C.FASTING, "Fast Start Corrected", "edit"),
    EventType.EATING_WINDOW_STARTED: _info(C.FASTING, "Eating Window Opened", "coffee"),
    EventType.EATING_WINDOW_ENDED: _info(C.FASTING, "Eating Window Closed", "coffee"),
    EventType.WORKOUT_STARTED: _info(C.WORKOUT, "Workout Started", "activity"),
    EventType.WORKOUT_COMPLETED: _info(C.WORKOUT, "Workout Completed", "award"),
    EventType.WORKOUT_ABANDONED: _info(C.WORKOUT, "Workout Ended Early", "x-circle"),
    EventType.WORKOUT_RATED: _info(C.WORKOUT, "Workout Rated", "star"),
    EventType.XP_EARNED: _info(C.PROGRESSION, "XP Earned", "star"),
    EventType.LEVEL_UP: _info(C.PROGRESSION, "Level Up!", "trending-up"),
    EventType.STREAK_INCREMENTED: _info(C.PROGRESSION, "Streak Extended", "flame"),
    EventType.STREAK_RESET: _info(C.PROGRESSION, "Streak Reset", "refresh-cw"),
    EventType.ACHIEVEMENT_UNLOCKED: _info(C.PROGRESSION, "Achievement Unlocked", "trophy"),
    EventType.PROFILE_CREATED: _info(C.PROFILE, "Profile Created", "user"),
    EventType.PROFILE_UPDATED: _info(C.PROFILE, "Profile Updated", "edit"),
    EventType.GOALS_UPDATED: _info(C.PROFILE, "Goals Updated", "target"),
    EventType.PREFERENCES_UPDATED: _info(C.PROFILE, "Preferences Updated", "settings"),
    EventType.WEIGHT_LOGGED: _info(C.METRICS, "Weight Logged", "scale"),
    EventType.BIOMARKER_UPLOADED: _info(C.METRICS, "Bloodwork Uploaded", "file-text"),
    EventType.METRIC_RECORDED: _info(C.METRICS, "Metric Recorded", "bar-chart"),
    EventType.HEALTH_SYNCED: _info(C.METRICS, "Health Data Synced", "refresh-cw"),
    EventType.COACH_MESSAGE_SENT: _info(C.COACH, "Message to Coach", "message-circle"),
    EventType.COACH_INSIGHT_VIEWED: _info(C.COACH, "Insight Viewed", "lightbulb", client=True),
    EventType.RECIPE_SAVED: _info(C.CONTENT, "Recipe Saved", "bookmark"),
    EventType.RECIPE_UNSAVED: _info(C.CONTENT, "Recipe Removed", "bookmark-minus"),
    EventType.FRIEND_REQUEST_SENT: _info(C.SOCIAL, "Friend Request Sent", "user-plus"),
    EventType.FRIEND_REQUEST_ACCEPTED: _info(C.SOCIAL, "New Friend", "users"),
    EventType.FRIEND_REQUEST_DECLINED: _info(C.SOCIAL, "Friend Request Declined", "user-x"),
    EventType.FRIEND_REMOVED: _info(C.SOCIAL, "Friend Removed", "user-minus"),
    EventType.USER_BLOCKED: _info(C.SOCIAL, "User Blocked", "slash"),
    EventType.USER_UNBLOCKED: _info(C.SOCIAL, "User Unblocked", "circle"),
    EventType.FOLLOW_STARTED: _info(C.SOCIAL, "Started Following", "user-check"),
    EventType.FOLLOW_ENDED: _info(C.SOCIAL, "Stopped Following", "user-minus"),
    EventType.CHALLENGE_CREATED: _info(C.SOCIAL, "Challenge Created", "flag"),
    EventType.CHALLENGE_JOINED: _info(C.SOCIAL, "Challenge Joined", "flag"),
    EventType.CHALLENGE_LEFT: _info(C.SOCIAL, "Challenge Left", "log-out"),
    EventType.CHALLENGE_COMPLETED: _info(C.SOCIAL, "Challenge Completed", "award"),
    EventType.CHALLENGE_WON: _info(C.SOCIAL, "Challenge Won", "trophy"),
    EventType.SHARE_CREATED: _info(C.SOCIAL, "Shared", "share-2", client=True),
    EventType.HEALTH_DATA_ACCESSED: _info(C.PRIVACY, "Health Data Accessed", "eye"),
    EventType.DATA_EXPORTED: _info(C.PRIVACY, "Data Exported", "download"),
    EventType.HEALTH_CONSENT_GRANTED: _info(C.PRIVACY, "Health Sync Allowed", "shield"),
    EventType.HEALTH_CONSENT_WITHDRAWN: _info(C.PRIVACY, "Health Sync Stopped", "shield-off"),
    EventType.HEALTH_DATA_DELETED: _info(C.PRIVACY, "Device Health Data Deleted", "trash-2"),
    EventType.APP_OPENED: _info(C.APP, "App Opened", "smartphone", client=True),
    EventType.WORKOUT_VIEWED: _info(C.APP, "Workout Viewed", "eye", client=True),
    EventType.RECIPE_VIEWED: _info(C.APP, "Recipe Viewed", "eye", client=True),
    EventType.RESEARCH_VIEWED: _info(C.APP, "Research Viewed", "book-open", client=True),
}

CLIENT_EVENT_TYPES = frozenset(t for t, info in EVENT_TYPES.items() if info.client_allowed)

MAX_METADATA_BYTES = 4096


class ActivityEvent(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)

    id: UUID
    identity_id: UUID
    event_type: str
    category: str
    timestamp: AwareDatetime
    related_id: str | None = None
    related_type: str | None = None
    source: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    description: str | None = None
    created_at: AwareDatetime


class EventFeedItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    event_type: str
    category: str
    timestamp: AwareDatetime
    title: str
    description: str | None = None
    icon: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    related_id: str | None = None
    related_type: str | None = None


class RecordEventRequest(RequestBody):
    """What a client may record itself: engagement events of the allow-list only. Everything that
    earns XP or counts toward streaks and challenges is recorded by the server."""

    event_type: str = Field(description="One of the client-side event types: " + ", ".join(sorted(CLIENT_EVENT_TYPES)))
    related_id: StorableText | None = Field(default=None, max_length=64)
    related_type: StorableText | None = Field(default=None, max_length=30)
    source: EventSource = EventSource.API
    metadata: dict[str, Any] = Field(default_factory=dict)
    description: StorableText | None = Field(default=None, max_length=500)
    timestamp: AwareDatetime | None = Field(
        default=None, description="When it happened; at most a few minutes away from server time"
    )

    @field_validator("source")
    @classmethod
    def _client_source(cls, value: EventSource) -> EventSource:
        if value not in CLIENT_SOURCES:
            raise ValueError("source must be one of api, mobile, web")
        return value

    @field_validator("metadata")
    @classmethod
    def _small_metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        return check_storable_json(value, max_bytes=MAX_METADATA_BYTES)  # type: ignore[no-any-return]


class EventSummary(BaseModel):
    total_events: int
    events_by_category: dict[str, int]
    events_by_type: dict[str, int]
    period_start: AwareDatetime
    period_end: AwareDatetime


class EventCount(BaseModel):
    event_type: str
    count: int


class EventsDeleted(BaseModel):
    deleted: int
    identity_id: UUID


class EventsAnonymized(BaseModel):
    anonymized: int
    identity_id: UUID = Field(description="The random id that now stands in the retained events")


class EventQuery(BaseModel):
    """Filters of the raw event list."""

    category: EventCategory | None = None
    event_type: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    limit: int = 50
    offset: int = 0
