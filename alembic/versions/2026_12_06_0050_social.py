"""social: friendships, blocks, follows, challenges and their participants, the daily facts and
per-period totals behind challenges and leaderboards (filled from the XP ledger and streaks already
recorded)

Revision ID: 7b17f585312b
Revises: 83c9574b7f0d
Create Date: 2026-12-06 00:50:00.000000+00:00
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from alembic import op

revision: str = "7b17f585312b"
down_revision: str | Sequence[str] | None = "83c9574b7f0d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TS = sa.DateTime(timezone=True)
BATCH = 5000


def upgrade() -> None:
    op.create_table(
        "friendships",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("identity_id_a", sa.Uuid(), nullable=False),
        sa.Column("identity_id_b", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requested_by", sa.Uuid(), nullable=False),
        sa.Column("accepted_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_friendships")),
        sa.UniqueConstraint("identity_id_a", "identity_id_b", name=op.f("uq_friendships_identity_id_a_identity_id_b")),
    )
    op.create_index("ix_friendships_b", "friendships", ["identity_id_b"])
    op.create_table(
        "social_blocks",
        sa.Column("blocker_id", sa.Uuid(), nullable=False),
        sa.Column("blocked_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("blocker_id", "blocked_id", name=op.f("pk_social_blocks")),
    )
    op.create_index("ix_social_blocks_blocked", "social_blocks", ["blocked_id"])
    op.create_table(
        "follows",
        sa.Column("follower_id", sa.Uuid(), nullable=False),
        sa.Column("following_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("follower_id", "following_id", name=op.f("pk_follows")),
    )
    op.create_index("ix_follows_following", "follows", ["following_id"])
    op.create_table(
        "challenges",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("challenge_type", sa.String(length=20), nullable=False),
        sa.Column("goal_value", sa.Float(), nullable=False),
        sa.Column("goal_unit", sa.String(length=20), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("join_code", sa.String(length=8), nullable=False),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("max_participants", sa.Integer(), nullable=False),
        sa.Column("participant_count", sa.Integer(), nullable=False),
        sa.Column("closes_at", TS, nullable=False),
        sa.Column("finalized_at", TS, nullable=True),
        sa.Column("winner_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenges")),
        sa.UniqueConstraint("join_code", name=op.f("uq_challenges_join_code")),
    )
    op.create_index("ix_challenges_public_start", "challenges", ["is_public", "start_date"])
    op.create_index(op.f("ix_challenges_created_by"), "challenges", ["created_by"])
    op.create_table(
        "challenge_participants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("challenge_id", sa.Uuid(), nullable=False),
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("joined_at", TS, nullable=False),
        sa.Column("current_progress", sa.Float(), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("completed_at", TS, nullable=True),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["challenge_id"],
            ["challenges.id"],
            name=op.f("fk_challenge_participants_challenge_id_challenges"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_challenge_participants")),
        sa.UniqueConstraint("challenge_id", "identity_id", name=op.f("uq_challenge_participants_challenge_id_identity_id")),
    )
    op.create_index(op.f("ix_challenge_participants_identity_id"), "challenge_participants", ["identity_id"])
    op.create_table(
        "social_activity_days",
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("fasts", sa.Integer(), nullable=False),
        sa.Column("workouts", sa.Integer(), nullable=False),
        sa.Column("weigh_ins", sa.Integer(), nullable=False),
        sa.Column("xp", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("identity_id", "day", name=op.f("pk_social_activity_days")),
    )
    op.create_table(
        "social_xp_totals",
        sa.Column("period", sa.String(length=5), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("xp", sa.Integer(), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("period", "period_start", "identity_id", name=op.f("pk_social_xp_totals")),
    )
    op.create_index(
        "ix_social_xp_totals_board", "social_xp_totals", ["period", "period_start", "listed", "xp", "identity_id"]
    )
    op.create_index("ix_social_xp_totals_identity", "social_xp_totals", ["identity_id"])
    op.create_table(
        "social_streak_standings",
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("current_count", sa.Integer(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("alive_until", TS, nullable=True),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("identity_id", name=op.f("pk_social_streak_standings")),
    )
    op.create_index(
        "ix_social_streak_standings_board", "social_streak_standings", ["listed", "current_count", "identity_id"]
    )
    op.create_table(
        "social_members",
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("profile_public", sa.Boolean(), nullable=False),
        sa.Column("show_level", sa.Boolean(), nullable=False),
        sa.Column("show_streaks", sa.Boolean(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("identity_id", name=op.f("pk_social_members")),
    )
    _backfill()


def _aware(value: Any) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


_TYPES: dict[str, Any] = {
    "day": sa.Date(),
    "period_start": sa.Date(),
    "last_day": sa.Date(),
    "alive_until": sa.DateTime(timezone=True),
    "updated_at": sa.DateTime(timezone=True),
}


def _insert(table: str, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """Identity ids go back as they were read (the dialect's own form); dates and instants through
    SQLAlchemy's types (instants as naive UTC, as the app writes them on SQLite)."""
    target = sa.table(table, *(sa.column(c, _TYPES.get(c)) for c in columns))
    if bind_is_sqlite():
        for row in rows:
            for key in ("alive_until", "updated_at"):
                if row.get(key) is not None:
                    row[key] = row[key].astimezone(UTC).replace(tzinfo=None)
    for start in range(0, len(rows), BATCH):
        op.get_bind().execute(target.insert(), rows[start : start + BATCH])


def bind_is_sqlite() -> bool:
    return bool(op.get_bind().dialect.name == "sqlite")


def _backfill() -> None:
    """Privacy flags, XP per period and per day, activity days and fasting streaks from what
    progression and the profile module recorded before this module existed."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    flags = {
        row[0]: (bool(row[1]), bool(row[2]), bool(row[3]))
        for row in bind.execute(
            sa.text("SELECT identity_id, profile_public, show_level, show_streaks FROM social_profiles")
        )
    }
    zones = {row[0]: _zone(row[1]) for row in bind.execute(sa.text("SELECT identity_id, timezone FROM user_preferences"))}
    _insert(
        "social_members",
        ["identity_id", "profile_public", "show_level", "show_streaks", "updated_at"],
        [
            {"identity_id": i, "profile_public": p, "show_level": lv, "show_streaks": st, "updated_at": now}
            for i, (p, lv, st) in flags.items()
        ],
    )
    totals: dict[tuple[str, date, Any], int] = defaultdict(int)
    days: dict[tuple[Any, date], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    kinds = {"fast_completed": 0, "workout_completed": 1, "weight_logged": 2}
    ledger = bind.execute(
        sa.text("SELECT identity_id, amount, created_at, transaction_type, activity_day FROM xp_transactions")
    )
    for identity_id, amount, created_at, kind, activity_day in ledger:
        zone = zones.get(identity_id, ZoneInfo("UTC"))
        local = _aware(created_at).astimezone(zone)
        today = local.date()
        for period, start in (
            ("week", today - timedelta(days=today.weekday())),
            ("month", today.replace(day=1)),
            ("all", date(1970, 1, 1)),
        ):
            totals[(period, start, identity_id)] += int(amount)
        day = (local - timedelta(hours=4)).date()
        days[(identity_id, day)][3] += int(amount)
        if kind in kinds:
            days[(identity_id, _day(activity_day) or day)][kinds[kind]] += 1
    _insert(
        "social_xp_totals",
        ["period", "period_start", "identity_id", "xp", "listed"],
        [
            {
                "period": period,
                "period_start": start,
                "identity_id": identity_id,
                "xp": xp,
                "listed": flags.get(identity_id, (False, True, True))[0]
                and flags.get(identity_id, (False, True, True))[1],
            }
            for (period, start, identity_id), xp in totals.items()
        ],
    )
    _insert(
        "social_activity_days",
        ["identity_id", "day", "fasts", "workouts", "weigh_ins", "xp"],
        [
            {"identity_id": i, "day": d, "fasts": v[0], "workouts": v[1], "weigh_ins": v[2], "xp": v[3]}
            for (i, d), v in days.items()
        ],
    )
    standings = []
    for identity_id, count, last_day in bind.execute(
        sa.text("SELECT identity_id, current_count, last_activity_date FROM streaks WHERE streak_type = 'fasting'")
    ):
        last = _day(last_day)
        zone = zones.get(identity_id, ZoneInfo("UTC"))
        alive = None if last is None else datetime.combine(last + timedelta(days=2), time(4), zone).astimezone(UTC)
        public, _, show_streaks = flags.get(identity_id, (False, True, True))
        standings.append(
            {
                "identity_id": identity_id,
                "current_count": int(count),
                "last_day": last,
                "alive_until": alive,
                "listed": public and show_streaks,
            }
        )
    _insert(
        "social_streak_standings", ["identity_id", "current_count", "last_day", "alive_until", "listed"], standings
    )


def downgrade() -> None:
    op.drop_table("social_members")
    op.drop_index("ix_social_streak_standings_board", table_name="social_streak_standings")
    op.drop_table("social_streak_standings")
    op.drop_index("ix_social_xp_totals_identity", table_name="social_xp_totals")
    op.drop_index("ix_social_xp_totals_board", table_name="social_xp_totals")
    op.drop_table("social_xp_totals")
    op.drop_table("social_activity_days")
    op.drop_index(op.f("ix_challenge_participants_identity_id"), table_name="challenge_participants")
    op.drop_table("challenge_participants")
    op.drop_index(op.f("ix_challenges_created_by"), table_name="challenges")
    op.drop_index("ix_challenges_public_start", table_name="challenges")
    op.drop_table("challenges")
    op.drop_index("ix_follows_following", table_name="follows")
    op.drop_table("follows")
    op.drop_index("ix_social_blocks_blocked", table_name="social_blocks")
    op.drop_table("social_blocks")
    op.drop_index("ix_friendships_b", table_name="friendships")
    op.drop_table("friendships")
