"""The social migration fills its totals, activity days, streak standings and privacy flags from
what progression and the profile module recorded before it (on a database of its own, SQLite)."""

from __future__ import annotations

import sqlite3
import tempfile
import uuid
from pathlib import Path

import anyio

from alembic import command
from src.core.migrations import alembic_config

BEFORE_SOCIAL = "f38669213cdd"


def _migrate_with_history(path: Path) -> sqlite3.Connection:
    config = alembic_config(f"sqlite+aiosqlite:///{path}")
    command.upgrade(config, BEFORE_SOCIAL)
    db = sqlite3.connect(path, check_same_thread=False)
    public, private = uuid.uuid4().hex, uuid.uuid4().hex
    db.execute(
        "INSERT INTO social_profiles (identity_id, username, username_key, friend_code, profile_public, show_streaks,"
        " show_achievements, show_level, show_workouts, show_weight, friends_count, followers_count, following_count,"
        " created_at, updated_at) VALUES (?, 'pub', 'pub', 'AAAAAAAA', 1, 1, 1, 1, 0, 0, 0, 0, 0,"
        " '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
        (public,),
    )
    ledger = [
        (public, 50, "fast_completed", "f1", "2026-03-02", "2026-03-02 23:30:00"),  # Monday in UTC
        (public, 25, "achievement_unlocked", "a1", None, "2026-03-02 23:30:00"),
        (public, 100, "fast_completed", "f0", "2026-02-20", "2026-02-20 12:00:00"),
        (private, 30, "workout_completed", "w1", "2026-03-03", "2026-03-03 10:00:00"),
    ]
    db.executemany(
        "INSERT INTO xp_transactions (id, identity_id, amount, transaction_type, source_key, activity_day, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(uuid.uuid4().hex, *row) for row in ledger],
    )
    db.execute(
        "INSERT INTO streaks (id, identity_id, streak_type, current_count, longest_count, last_activity_date,"
        " started_on, created_at, updated_at) VALUES (?, ?, 'fasting', 1, 1, '2026-03-02', '2026-03-02',"
        " '2026-03-02 23:30:00', '2026-03-02 23:30:00')",
        (uuid.uuid4().hex, public),
    )
    db.commit()
    command.upgrade(config, "head")
    return db


async def test_the_migration_fills_totals_days_standings_and_flags_from_history() -> None:
    path = Path(tempfile.mkdtemp(prefix="ugoki-social-migration-")) / "m.db"
    db = await anyio.to_thread.run_sync(_migrate_with_history, path)
    try:
        totals = set(db.execute("SELECT period, period_start, xp, listed FROM social_xp_totals"))
        assert ("week", "2026-03-02", 75, 1) in totals
        assert ("month", "2026-03-01", 75, 1) in totals
        assert ("month", "2026-02-01", 100, 1) in totals
        assert ("all", "1970-01-01", 175, 1) in totals
        assert ("all", "1970-01-01", 30, 0) in totals  # no social profile: private
        days = set(db.execute("SELECT day, fasts, workouts, xp FROM social_activity_days"))
        assert ("2026-03-02", 1, 0, 75) in days
        assert ("2026-03-03", 0, 1, 30) in days
        standing = db.execute("SELECT current_count, last_day, listed FROM social_streak_standings").fetchall()
        assert standing == [(1, "2026-03-02", 1)]
        assert db.execute("SELECT count(*) FROM social_members").fetchone() == (1,)
    finally:
        db.close()
