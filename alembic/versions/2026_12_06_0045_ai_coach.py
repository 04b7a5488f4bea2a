"""ai coach: settings, conversations, messages, memories, evaluations, daily usage, safety events

Revision ID: b24e1b5e238e
Revises: eade0913feb1
Create Date: 2026-12-06 00:45:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "b24e1b5e238e"
down_revision: str | Sequence[str] | None = "eade0913feb1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "coach_user_settings",
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("personality", sa.String(length=20), nullable=False),
        sa.Column("share_wellbeing_data", sa.Boolean(), nullable=False),
        sa.Column("share_biomarkers", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("identity_id", name=op.f("pk_coach_user_settings")),
    )
    op.create_table(
        "coach_conversations",
        sa.Column("session_id", sa.String(length=100), nullable=False),
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_archived", sa.Boolean(), nullable=False),
        sa.Column("message_count", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("summary_upto_id", sa.Integer(), nullable=True),
        sa.Column("memory_extracted_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_coach_conversations")),
    )
    op.create_index(
        "ix_coach_conversations_identity_last", "coach_conversations", ["identity_id", "last_message_at"], unique=False
    )
    op.create_table(
        "coach_messages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=100), nullable=False),
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("safety_redirected", sa.Boolean(), nullable=False),
        sa.Column("interrupted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["coach_conversations.session_id"],
            name=op.f("fk_coach_messages_session_id_coach_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coach_messages")),
    )
    op.create_index("ix_coach_messages_session_id", "coach_messages", ["session_id", "id"], unique=False)
    op.create_index(op.f("ix_coach_messages_identity_id"), "coach_messages", ["identity_id"], unique=False)
    op.create_table(
        "coach_memories",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("memory_type", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("content", sa.String(length=500), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("source_session_id", sa.String(length=100), nullable=True),
        sa.Column("extracted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coach_memories")),
    )
    op.create_index("ix_coach_memories_identity", "coach_memories", ["identity_id", "is_active"], unique=False)
    op.create_table(
        "coach_evaluations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("scores", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("reasoning", sa.Text(), nullable=True),
        sa.Column("judge_model", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["coach_messages.id"],
            name=op.f("fk_coach_evaluations_message_id_coach_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coach_evaluations")),
    )
    op.create_index(op.f("ix_coach_evaluations_message_id"), "coach_evaluations", ["message_id"], unique=False)
    op.create_index(op.f("ix_coach_evaluations_identity_id"), "coach_evaluations", ["identity_id"], unique=False)
    op.create_table(
        "coach_daily_usage",
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("identity_id", "day", name=op.f("pk_coach_daily_usage")),
    )
    op.create_table(
        "coach_safety_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(length=30), nullable=False),
        sa.Column("endpoint", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coach_safety_events")),
    )
    op.create_index(op.f("ix_coach_safety_events_identity_id"), "coach_safety_events", ["identity_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_coach_safety_events_identity_id"), table_name="coach_safety_events")
    op.drop_table("coach_safety_events")
    op.drop_table("coach_daily_usage")
    op.drop_index(op.f("ix_coach_evaluations_identity_id"), table_name="coach_evaluations")
    op.drop_index(op.f("ix_coach_evaluations_message_id"), table_name="coach_evaluations")
    op.drop_table("coach_evaluations")
    op.drop_index("ix_coach_memories_identity", table_name="coach_memories")
    op.drop_table("coach_memories")
    op.drop_index(op.f("ix_coach_messages_identity_id"), table_name="coach_messages")
    op.drop_index("ix_coach_messages_session_id", table_name="coach_messages")
    op.drop_table("coach_messages")
    op.drop_index("ix_coach_conversations_identity_last", table_name="coach_conversations")
    op.drop_table("coach_conversations")
    op.drop_table("coach_user_settings")
