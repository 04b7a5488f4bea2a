"""event counts by day and month: what the event summary reads instead of the events

One row per person, UTC day (or month), category and event type with the number of events, filled
here from the journal and kept by every append afterwards.

Revision ID: 6d1876d583c6
Revises: e3b7ba72d8ab
Create Date: 2026-12-06 04:12:57.247563+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6d1876d583c6"
down_revision: str | Sequence[str] | None = "e3b7ba72d8ab"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The UTC day and the first day of the UTC month of an event. SQLite keeps instants as UTC text
# ("YYYY-MM-DD HH:MM:SS.ffffff"); PostgreSQL as timestamptz.
BUCKETS = {
    "postgresql": {
        "day": "CAST(timezone('UTC', occurred_at) AS DATE)",
        "month": "CAST(date_trunc('month', timezone('UTC', occurred_at)) AS DATE)",
    },
    "sqlite": {
        "day": "date(occurred_at)",
        "month": "strftime('%Y-%m-01', occurred_at)",
    },
}


def upgrade() -> None:
    op.create_table(
        "activity_event_counts",
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("period", sa.String(length=5), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("event_type", sa.String(length=50), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.CheckConstraint("period IN ('day', 'month')", name=op.f("ck_activity_event_counts_period")),
        sa.PrimaryKeyConstraint(
            "identity_id", "period", "period_start", "category", "event_type", name=op.f("pk_activity_event_counts")
        ),
    )
    buckets = BUCKETS[op.get_bind().dialect.name]
    for period in ("day", "month"):
        op.execute(
            f"""
            INSERT INTO activity_event_counts (identity_id, period, period_start, category, event_type, events)
            SELECT identity_id, '{period}', {buckets[period]}, category, event_type, count(*)
            FROM activity_events
            GROUP BY identity_id, {buckets[period]}, category, event_type
            """
        )


def downgrade() -> None:
    op.drop_table("activity_event_counts")
