"""Tables owned by the social module. Other modules' rows are referenced by id only."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from src.core.types import UTCDateTime
from src.database import Base


class FriendshipRow(Base):
    """A pending or accepted friendship; `identity_id_a` < `identity_id_b` (one row per pair)."""

    __tablename__ = "friendships"
    __table_args__ = (
        UniqueConstraint("identity_id_a", "identity_id_b"),
        Index("ix_friendships_b", "identity_id_b"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    identity_id_a: Mapped[uuid.UUID] = mapped_column()
    identity_id_b: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[str] = mapped_column(String(10))
    requested_by: Mapped[uuid.UUID] = mapped_column()
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BlockRow(Base):
    """One block per direction: each blocker alone can lift their own block."""

    __tablename__ = "social_blocks"
    __table_args__ = (Index("ix_social_blocks_blocked", "blocked_id"),)

    blocker_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    blocked_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FollowRow(Base):
    __tablename__ = "follows"
    __table_args__ = (Index("ix_follows_following", "following_id"),)

    follower_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    following_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ChallengeRow(Base):
    __tablename__ = "challenges"
    __table_args__ = (Index("ix_challenges_public_start", "is_public", "start_date"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    challenge_type: Mapped[str] = mapped_column(String(20))
    goal_value: Mapped[float] = mapped_column(Float)
    goal_unit: Mapped[str | None] = mapped_column(String(20))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    created_by: Mapped[uuid.UUID | None] = mapped_column(index=True)
    join_code: Mapped[str] = mapped_column(String(8), unique=True)
    is_public: Mapped[bool] = mapped_column(Boolean)
    max_participants: Mapped[int] = mapped_column(Integer)
    # Kept with every join and leave under the challenge's row lock: the capacity check is exact.
    participant_count: Mapped[int] = mapped_column(Integer)
    # When the last day is over in every time zone: the result is decided then, once.
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    winner_id: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ParticipantRow(Base):
    __tablename__ = "challenge_participants"
    __table_args__ = (UniqueConstraint("challenge_id", "identity_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    challenge_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"))
    identity_id: Mapped[uuid.UUID] = mapped_column(index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    current_progress: Mapped[float] = mapped_column(Float)
    completed: Mapped[bool] = mapped_column(Boolean)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rank: Mapped[int | None] = mapped_column(Integer)  # frozen when the challenge is decided


class ActivityDayRow(Base):
    """What a person did on one streak day (04:00–04:00 in their zone): the server facts that
    challenge progress is computed from."""

    __tablename__ = "social_activity_days"

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    fasts: Mapped[int] = mapped_column(Integer, default=0)
    workouts: Mapped[int] = mapped_column(Integer, default=0)
    weigh_ins: Mapped[int] = mapped_column(Integer, default=0)
    xp: Mapped[int] = mapped_column(Integer, default=0)


class XPTotalRow(Base):
    """XP earned per person per period (`week` by its Monday, `month` by its first day, `all`),
    kept up to date in the crediting transaction. `listed`: may appear on global boards."""

    __tablename__ = "social_xp_totals"
    __table_args__ = (
        Index("ix_social_xp_totals_board", "period", "period_start", "listed", "xp", "identity_id"),
        Index("ix_social_xp_totals_identity", "identity_id"),
    )

    period: Mapped[str] = mapped_column(String(5), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    xp: Mapped[int] = mapped_column(Integer)
    listed: Mapped[bool] = mapped_column(Boolean)


class StreakStandingRow(Base):
    """A person's fasting streak as progression stored it, with the instant it lapses."""

    __tablename__ = "social_streak_standings"
    __table_args__ = (Index("ix_social_streak_standings_board", "listed", "current_count", "identity_id"),)

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    current_count: Mapped[int] = mapped_column(Integer)
    last_day: Mapped[date | None] = mapped_column(Date)
    alive_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    listed: Mapped[bool] = mapped_column(Boolean)


class MemberRow(Base):
    """The privacy flags of a social profile, copied here when the profile changes so boards can
    filter in one indexed query."""

    __tablename__ = "social_members"

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    profile_public: Mapped[bool] = mapped_column(Boolean)
    show_level: Mapped[bool] = mapped_column(Boolean)
    show_streaks: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ShareCardRow(Base):
    """A shared card: its public page `/s/{key}` and its image in object storage. Holds only what
    the person chose to share (the title and message of the share, no other figures)."""

    __tablename__ = "social_share_cards"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, unguessable
    identity_id: Mapped[uuid.UUID] = mapped_column(index=True)
    share_type: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    deep_link: Mapped[str] = mapped_column(String(200))
    image_key: Mapped[str] = mapped_column(String(200))  # the storage key, owned by the server
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
