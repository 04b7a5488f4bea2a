"""streak days a credited activity covers; the time zone a once-a-day credit was keyed in

Revision ID: 83c9574b7f0d
Revises: b24e1b5e238e
Create Date: 2026-12-06 00:40:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "83c9574b7f0d"
down_revision: str | Sequence[str] | None = "b24e1b5e238e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "streak_days",
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("streak_type", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("identity_id", "streak_type", "day", name=op.f("pk_streak_days")),
    )
    # Until now each credited activity counted for one day: the one its ledger row keeps.
    op.execute(
        """
        INSERT INTO streak_days (identity_id, streak_type, day)
        SELECT DISTINCT identity_id,
               CASE transaction_type
                   WHEN 'fast_completed' THEN 'fasting'
                   WHEN 'workout_completed' THEN 'workout'
                   ELSE 'logging'
               END,
               activity_day
        FROM xp_transactions
        WHERE activity_day IS NOT NULL
          AND transaction_type IN ('fast_completed', 'workout_completed', 'weight_logged')
        """
    )
    with op.batch_alter_table("xp_transactions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("xp_transactions", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
    op.drop_table("streak_days")
