from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from src.core.contracts import StreakSnapshot, UnlockedAchievement
from src.core.types import UTCInstant
from src.core.validation import RequestBody, check_storable_json
from src.modules.profile import FastingProtocol

MAX_METADATA_BYTES = 4096
MAX_METADATA_DEPTH = 16
PROTOCOL_ALIASES = {"24:0": "24h", "23:1": "OMAD", "omad": "OMAD", "24": "24h", "36": "36h"}


class WindowType(StrEnum):
    FAST = "fast"
    EATING = "eating"
    WORKOUT = "workout"
    RECOVERY = "recovery"


class WindowState(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    ABANDONED = "abandoned"


class EndState(StrEnum):
    COMPLETED = "completed"
    ABANDONED = "abandoned"


def _bounded_metadata(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return check_storable_json(value, max_bytes=MAX_METADATA_BYTES, max_depth=MAX_METADATA_DEPTH)  # type: ignore[no-any-return]


def _protocol(value: Any) -> Any:
    if isinstance(value, str):
        return PROTOCOL_ALIASES.get(value.strip(), value.strip())
    return value


class OpenWindowRequest(RequestBody):
    window_type: WindowType
    protocol: FastingProtocol | None = Field(
        default=None, description="Fasts: 16:8, 18:6, 20:4, OMAD, 24h, 36h or custom (also read from metadata.protocol)"
    )
    custom_hours: int | None = Field(
        default=None, ge=1, le=72, description="Custom fasts: 1–72 hours (also read from metadata.target_hours)"
    )
    scheduled_end: UTCInstant | None = Field(
        default=None, description="Planned end; computed from the protocol when omitted (at most 7 days ahead)"
    )
    start_time: UTCInstant | None = Field(
        default=None, description="When it really started (up to 7 days back); default now"
    )
    end_time: UTCInstant | None = Field(
        default=None, description="Fasts only: log a finished past fast (credited like any completed fast)"
    )
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("metadata")
    @classmethod
    def _meta(cls, value: dict[str, Any]) -> dict[str, Any]:
        return _bounded_metadata(value) or {}

    @field_validator("protocol", mode="before")
    @classmethod
    def _proto(cls, value: Any) -> Any:
        return _protocol(value)


class CloseWindowRequest(RequestBody):
    end_state: EndState = EndState.COMPLETED
    metadata: dict[str, Any] | None = None
    open_eating_window: bool = Field(
        default=False, description="Fasts: open an eating window of the protocol's length right away"
    )

    @field_validator("metadata")
    @classmethod
    def _meta(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        return _bounded_metadata(value)


class ExtendWindowRequest(RequestBody):
    new_end: UTCInstant


class CorrectWindowRequest(RequestBody):
    start_time: UTCInstant = Field(description="The real start of the running fast (up to 7 days back)")


class FastingStage(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    label: str
    description: str
    starts_at_hours: int
    ends_at_hours: int | None
    started_at: AwareDatetime | None = Field(
        description="When this fast entered the stage (the instant its fasted time, pauses excluded, reached it)"
    )


class NextStage(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    label: str
    starts_at_hours: int
    starts_at: AwareDatetime | None = Field(
        description="When it will start if the fast keeps running (now + `starts_in_seconds`); null while paused"
    )
    starts_in_seconds: int = Field(description="Fasted seconds still needed to reach it")


class PauseInterval(BaseModel):
    model_config = ConfigDict(frozen=True)

    started_at: AwareDatetime
    ended_at: AwareDatetime


class TimeWindow(BaseModel):
    id: UUID
    identity_id: UUID
    window_type: WindowType
    state: WindowState
    start_time: AwareDatetime
    end_time: AwareDatetime | None = None
    scheduled_end: AwareDatetime | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    protocol: str | None = None
    target_seconds: int | None = None
    paused_at: AwareDatetime | None = None
    paused_duration: int = Field(description="Seconds spent paused (excluded from elapsed time)")
    pauses: list[PauseInterval] = Field(
        default_factory=list, description="Ended pauses, oldest first (a pause in progress is `paused_at`)"
    )
    elapsed_seconds: int
    remaining_seconds: int | None
    progress_percent: float | None
    goal_met: bool = Field(
        description="The planned length was reached; for fasts also at least 12 h fasted (the least that earns "
        "credit), so a goal met is a fast that counts"
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="Things the person should know about this window, e.g. that a fast planned under 12 h earns "
        "no XP or streak credit",
    )
    stage: FastingStage | None = None
    next_stage: NextStage | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class ClosedWindow(TimeWindow):
    """A closed window and what closing it earned."""

    xp_earned: int = Field(default=0, description="base_xp + streak_bonus_xp + achievement_xp")
    base_xp: int = Field(default=0, description="The fast's own XP band (actual fasted hours)")
    streak_bonus_xp: int = Field(default=0, description="Streak milestone bonuses this fast reached")
    achievement_xp: int = Field(default=0, description="XP of the achievements this fast unlocked")
    level_up: bool = False
    new_level: int | None = None
    achievements_unlocked: list[UnlockedAchievement] = Field(default_factory=list)
    streak: StreakSnapshot | None = None
    credited: bool = False
    credit_reason: str | None = None
    eating_window: TimeWindow | None = None


class Elapsed(BaseModel):
    elapsed_seconds: int


class Remaining(BaseModel):
    remaining_seconds: int | None
