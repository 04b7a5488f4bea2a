"""The published language between modules: domain events that more than one module reacts to,
and the reward summary that progression returns to whoever triggered it.

They live in the shell so that a publisher (time keeper, content, metrics, social) and its
subscribers (progression, profile, social, notifications) depend on this contract, not on each
other.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from src.core.bus import DomainEvent


class FastCompleted(DomainEvent):
    """A fast closed as completed (also a back-filled past fast)."""

    window_id: UUID
    started_at: datetime
    ended_at: datetime
    fasted_seconds: int = Field(ge=0, description="Actual fasting time, pauses excluded")
    target_seconds: int | None = None
    protocol: str | None = None


class FastPlanChanged(DomainEvent):
    """A running fast's planned end is set or moved: started, paused (no end while paused), resumed,
    start corrected or extended. Reminders about the fast's end are scheduled from it."""

    window_id: UUID
    state: str = Field(description="`active` or `paused`")
    scheduled_end: datetime | None = Field(description="The planned end; None while paused or without a plan")


class SignedOut(DomainEvent):
    """A session ended by its owner (logout): what was bound to that sign-in (push tokens) ends too."""

    session_id: UUID


class DeviceDataReceived(DomainEvent):
    """Device health data is about to be stored outside a health sync (the generic metrics
    endpoint with source `device_sync`). Health sync refuses it (raises) after the person
    withdrew consent, and records consent on the basis of the first sync when none is recorded."""


class WorkoutCompleted(DomainEvent):
    session_id: UUID
    workout_id: UUID
    workout_name: str
    category: str | None
    difficulty: str
    duration_seconds: int
    eligible: bool = Field(description="Lasted at least half the planned duration: earns credit")
    started_at: datetime | None = Field(default=None, description="When the session began (its clock time)")


class WeightLogged(DomainEvent):
    metric_id: UUID
    value_kg: float


class MetricRecorded(DomainEvent):
    """A measurement of any type was stored or changed through the API or a device sync (bulk
    imports excepted). Carries no value: readers with the right to see it read it by id."""

    metric_id: UUID
    metric_type: str


class SocialProgress(DomainEvent):
    """Social facts progression counts toward achievements (absolute values where given)."""

    friends_count: int | None = None
    challenge_joined: bool = False
    challenge_won: bool = False
    challenge_id: UUID | None = Field(default=None, description="The challenge joined or won")
    challenge_name: str | None = None


class AchievementUnlocked(DomainEvent):
    """Progression unlocked an achievement (published once per unlock, inside its transaction)."""

    achievement_id: UUID
    name: str
    achievement_type: str
    xp_reward: int


class LevelReached(DomainEvent):
    """Progression moved the person up to `level` (published once per credit that did)."""

    level: int
    title: str


class XPCredited(DomainEvent):
    """XP appended to the ledger by one credit (the activity's XP, its streak bonus and the
    achievements it unlocked; or an admin grant), published by progression in the crediting
    transaction. `occurred_at` is when the ledger rows were written: the instant the XP counts for
    in per-period totals."""

    amount: int
    activity_day: date | None = Field(
        default=None, description="For activity XP: the activity's streak day in the person's zone"
    )


class StreakChanged(DomainEvent):
    """A streak's stored state after progression credited a day to it (or rebuilt it)."""

    streak_type: str
    current_count: int
    longest_count: int
    last_activity_date: date | None = Field(description="The last credited streak day, in the person's zone")


class SocialProfileChanged(DomainEvent):
    """The privacy flags of a social profile as saved (published by the profile module)."""

    profile_public: bool
    show_level: bool
    show_streaks: bool


class UnlockedAchievement(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    name: str
    description: str
    icon: str
    xp_reward: int
    achievement_type: str


class StreakSnapshot(BaseModel):
    model_config = ConfigDict(frozen=True)

    streak_type: str
    current_count: int
    longest_count: int
    extended: bool = Field(description="This activity added a day to the streak")


class Reward(BaseModel):
    """What one activity earned: returned by progression to the publisher of the activity."""

    model_config = ConfigDict(frozen=True)

    xp_earned: int = Field(description="All XP of this activity: base, streak bonus and achievements")
    base_xp: int = 0
    streak_bonus_xp: int = 0
    achievement_xp: int = 0
    level_up: bool = False
    new_level: int | None = None
    total_xp: int = 0
    achievements_unlocked: list[UnlockedAchievement] = Field(default_factory=list)
    streak: StreakSnapshot | None = None
    credited: bool = Field(default=True, description="False when the activity earned nothing (and why)")
    reason: str | None = None
