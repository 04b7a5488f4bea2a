"""social: share cards (public share pages and their images)

Revision ID: e3b7ba72d8ab
Revises: 2435098d6975
Create Date: 2026-12-06 04:13:55.457140+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e3b7ba72d8ab"
down_revision: str | Sequence[str] | None = "2435098d6975"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "social_share_cards",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("share_type", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("deep_link", sa.String(length=200), nullable=False),
        sa.Column("image_key", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_social_share_cards")),
    )
    op.create_index(op.f("ix_social_share_cards_identity_id"), "social_share_cards", ["identity_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_social_share_cards_identity_id"), table_name="social_share_cards")
    op.drop_table("social_share_cards")
