"""time window pauses: when each pause of a fast began and ended

Revision ID: 5d1c7a9e2b40
Revises: 88f3bf679691
Create Date: 2026-11-27 15:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "5d1c7a9e2b40"
down_revision: str | Sequence[str] | None = "88f3bf679691"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows start with an empty list: their earlier pauses are known only as a total
    # (`paused_seconds`), which the service still honours.
    with op.batch_alter_table("time_windows", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "pauses",
                sa.JSON().with_variant(postgresql.JSONB(), "postgresql"),
                server_default=sa.text("'[]'"),
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("time_windows", schema=None) as batch_op:
        batch_op.drop_column("pauses")
