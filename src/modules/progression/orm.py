from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from src.core.types import JSONType, UTCDateTime
from src.database import Base


class XPTransactionRow(Base):
    """The XP ledger. `source_key` names what earned the XP (a fast, a streak run's milestone, an
    achievement, a day's weigh-in…): unique per person, so nothing is ever credited twice. Rows of
    streak activities keep the streak day the activity counted for (`activity_day`), so a fast
    logged days later can rebuild its streak run out of the ledger."""

    __tablename__ = "xp_transactions"
    __table_args__ = (
        UniqueConstraint("identity_id", "source_key"),
        Index("ix_xp_transactions_identity_created", "identity_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    identity_id: Mapped[uuid.UUID]
    amount: Mapped[int] = mapped_column(Integer)
    transaction_type: Mapped[str] = mapped_column(String(30))
    description: Mapped[str | None] = mapped_column(String(200))
    related_id: Mapped[str | None] = mapped_column(String(64))
    source_key: Mapped[str] = mapped_column(String(120))
    activity_day: Mapped[date | None] = mapped_column(Date)
    # The person's time zone when a once-a-day credit was keyed (weigh-ins): a later zone change
    # cannot open a second "day" before that day has ended in this zone too.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StreakDayRow(Base):
    """Every streak day credited activity counted for, per streak type (a fast can cover more
    than the day it ended): streak runs rebuilt after a back-filled activity are read from here."""

    __tablename__ = "streak_days"

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    streak_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)


class UserLevelRow(Base):
    """Running total of the ledger, updated in the same transaction as every ledger row (and the
    per-person lock of progression work)."""

    __tablename__ = "user_levels"

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    total_xp: Mapped[int] = mapped_column(Integer)
    current_level: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StreakRow(Base):
    __tablename__ = "streaks"
    __table_args__ = (UniqueConstraint("identity_id", "streak_type"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    identity_id: Mapped[uuid.UUID]
    streak_type: Mapped[str] = mapped_column(String(20))
    current_count: Mapped[int] = mapped_column(Integer)
    longest_count: Mapped[int] = mapped_column(Integer)
    last_activity_date: Mapped[date | None] = mapped_column(Date)
    started_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ProgressionStatsRow(Base):
    """Counters the achievements are measured on, kept current as activities are credited, so
    evaluating the whole catalogue costs a couple of queries."""

    __tablename__ = "progression_stats"

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    activities: Mapped[int] = mapped_column(Integer, default=0)
    fasts: Mapped[int] = mapped_column(Integer, default=0)
    fasts_20h: Mapped[int] = mapped_column(Integer, default=0)
    fasts_24h: Mapped[int] = mapped_column(Integer, default=0)
    workouts: Mapped[int] = mapped_column(Integer, default=0)
    early_workouts: Mapped[int] = mapped_column(Integer, default=0)
    late_workouts: Mapped[int] = mapped_column(Integer, default=0)
    workout_categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    weights: Mapped[int] = mapped_column(Integer, default=0)
    friends: Mapped[int] = mapped_column(Integer, default=0)
    challenges_joined: Mapped[int] = mapped_column(Integer, default=0)
    challenges_won: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AchievementRow(Base):
    """The catalogue (seeded, idempotent by `code`)."""

    __tablename__ = "achievements"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(300))
    achievement_type: Mapped[str] = mapped_column(String(20))
    metric: Mapped[str] = mapped_column(String(30))
    requirement_value: Mapped[int] = mapped_column(Integer)
    xp_reward: Mapped[int] = mapped_column(Integer)
    icon: Mapped[str] = mapped_column(String(30))
    is_hidden: Mapped[bool] = mapped_column(Boolean)
    sort_order: Mapped[int] = mapped_column(Integer)


class UserAchievementRow(Base):
    __tablename__ = "user_achievements"
    __table_args__ = (
        UniqueConstraint("identity_id", "achievement_id"),
        Index("ix_user_achievements_identity_unlocked", "identity_id", "unlocked_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    identity_id: Mapped[uuid.UUID]
    achievement_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("achievements.id"))
    unlocked_at: Mapped[datetime] = mapped_column(UTCDateTime())
