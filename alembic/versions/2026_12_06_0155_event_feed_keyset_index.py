"""event feed keyset index: (identity, instant, id), with category and type alongside on PostgreSQL

The feed pages with a row comparison (occurred_at, id) < (b, bid), which this index bounds; the
summary's counts by category and type read the index alone on PostgreSQL (INCLUDE columns).
It replaces the (identity, instant) index, of which it is a superset.

Revision ID: 2b8b4e52b1fa
Revises: 817bba2dd0ab
Create Date: 2026-12-06 01:55:00.000000+00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "2b8b4e52b1fa"
down_revision: str | Sequence[str] | None = "817bba2dd0ab"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_activity_events_identity_occurred_id",
        "activity_events",
        ["identity_id", "occurred_at", "id"],
        postgresql_include=["category", "event_type"],
    )
    op.drop_index("ix_activity_events_identity_occurred", table_name="activity_events")


def downgrade() -> None:
    op.create_index("ix_activity_events_identity_occurred", "activity_events", ["identity_id", "occurred_at"])
    op.drop_index("ix_activity_events_identity_occurred_id", table_name="activity_events")
