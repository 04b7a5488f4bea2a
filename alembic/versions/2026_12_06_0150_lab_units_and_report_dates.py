"""lab results: original value and unit; lab reports: local test day, where the date came from, source

Revision ID: 817bba2dd0ab
Revises: 9f1c25e5e698
Create Date: 2026-12-06 01:50:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "817bba2dd0ab"
down_revision: str | Sequence[str] | None = "9f1c25e5e698"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("metrics", schema=None) as batch_op:
        batch_op.add_column(sa.Column("original_value", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("original_unit", sa.String(length=50), nullable=True))
    with op.batch_alter_table("lab_reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("test_day", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("date_source", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("source", sa.String(length=20), nullable=False, server_default="upload"))


def downgrade() -> None:
    with op.batch_alter_table("lab_reports", schema=None) as batch_op:
        batch_op.drop_column("source")
        batch_op.drop_column("date_source")
        batch_op.drop_column("test_day")
    with op.batch_alter_table("metrics", schema=None) as batch_op:
        batch_op.drop_column("original_unit")
        batch_op.drop_column("original_value")
