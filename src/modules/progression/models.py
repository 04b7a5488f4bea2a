from __future__ import annotations

from datetime import date
from enum import StrEnum
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from src.core.contracts import UnlockedAchievement
from src.core.validation import RequestBody


class StreakType(StrEnum):
    FASTING = "fasting"
    WORKOUT = "workout"
    LOGGING = "logging"


class XPTransactionType(StrEnum):
    FAST_COMPLETED = "fast_completed"
    WORKOUT_COMPLETED = "workout_completed"
    WEIGHT_LOGGED = "weight_logged"
    STREAK_BONUS = "streak_bonus"
    ACHIEVEMENT_UNLOCKED = "achievement_unlocked"
    DAILY_LOGIN = "daily_login"
    LEVEL_UP_BONUS = "level_up_bonus"
    MANUAL = "manual"


class AchievementType(StrEnum):
    STREAK = "streak"
    FASTING = "fasting"
    WORKOUT = "workout"
    WEIGHT = "weight"
    SOCIAL = "social"
    SPECIAL = "special"


class UserLevel(BaseModel):
    model_config = ConfigDict(frozen=True)

    identity_id: UUID
    current_level: int
    current_xp: int = Field(description="XP earned inside the current level")
    xp_for_next_level: int = Field(description="XP the next level costs (0 at the top level)")
    xp_progress_percent: float
    total_xp_earned: int
    title: str


class Streak(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID | None = None
    identity_id: UUID
    streak_type: StreakType
    current_count: int = Field(description="0 once the streak is broken (last credited day before yesterday)")
    longest_count: int
    last_activity_date: date | None = None
    started_at: date | None = Field(default=None, description="First day of the current run")
    active_today: bool = Field(default=False, description="Today's activity is already credited")


class Achievement(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    code: str
    name: str
    description: str
    achievement_type: AchievementType
    xp_reward: int
    icon: str
    requirement_value: int
    is_hidden: bool


class UserAchievement(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(description="`pending_<achievement id>` while locked")
    identity_id: UUID
    achievement_id: UUID
    achievement: Achievement
    progress: int = Field(description="Current value of what the achievement measures")
    progress_percent: float
    is_unlocked: bool
    unlocked_at: AwareDatetime | None = None


class XPTransaction(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    identity_id: UUID
    amount: int
    transaction_type: str
    description: str | None = None
    related_id: str | None = None
    created_at: AwareDatetime


class XPSummary(BaseModel):
    total: int
    today: int = Field(
        description="Earned since the current streak day began (04:00 local time, the day streaks count)"
    )
    this_week: int = Field(description="Earned since Monday's streak day began (Monday 04:00 local time)")


class Overview(BaseModel):
    identity_id: UUID
    level: UserLevel
    streaks: list[Streak]
    recent_achievements: list[UserAchievement] = Field(description="Most recent unlocks first (up to 5)")
    total_achievements: int = Field(description="Achievements visible in the catalogue")
    achievements_unlocked: int
    achievement_progress_percent: float
    xp: XPSummary


class StreakResponse(BaseModel):
    streak: Streak
    xp_earned: int
    level_up: bool
    new_level: int | None = None
    achievements_unlocked: list[UnlockedAchievement] = Field(default_factory=list)


class GrantXPRequest(RequestBody):
    amount: int = Field(gt=0, le=100_000)
    transaction_type: XPTransactionType = XPTransactionType.MANUAL
    description: str | None = Field(default=None, max_length=200)
    related_id: str | None = Field(default=None, max_length=64)
    identity_id: UUID | None = Field(default=None, description="Whom to credit (default: the admin)")


class RecordActivityRequest(RequestBody):
    streak_type: StreakType
    activity_date: date | None = Field(default=None, description="Default: today in the person's time zone")
    identity_id: UUID | None = Field(default=None, description="Whose streak (default: the admin)")
