"""notifications: in-app notifications, channel deliveries, device tokens, preferences

Revision ID: 9f1c25e5e698
Revises: 7b17f585312b
Create Date: 2026-12-06 01:00:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "9f1c25e5e698"
down_revision: str | Sequence[str] | None = "7b17f585312b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TRUE = sa.text("true")
FALSE = sa.text("false")


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("source_key", sa.String(length=200), nullable=False),
        sa.Column("notification_type", sa.String(length=10), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("failure_reason", sa.String(length=40), nullable=True),
        sa.Column("in_app", sa.Boolean(), server_default=TRUE, nullable=False),
        sa.Column("channels_planned", sa.Boolean(), server_default=FALSE, nullable=False),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("identity_id", "source_key", name=op.f("uq_notifications_identity_id_source_key")),
    )
    op.create_index("ix_notifications_identity_status", "notifications", ["identity_id", "status"])
    op.create_index("ix_notifications_identity_created", "notifications", ["identity_id", "created_at"])

    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("notification_id", sa.Uuid(), nullable=False),
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("device_token_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("external_id", sa.String(length=200), nullable=True),
        sa.Column("error", sa.String(length=60), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name=op.f("fk_notification_deliveries_notification_id_notifications"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_deliveries")),
    )
    op.create_index(
        op.f("ix_notification_deliveries_notification_id"), "notification_deliveries", ["notification_id"]
    )
    op.create_index(op.f("ix_notification_deliveries_identity_id"), "notification_deliveries", ["identity_id"])
    op.create_index("ix_notification_deliveries_ticket", "notification_deliveries", ["external_id"])

    op.create_table(
        "device_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("token", sa.String(length=500), nullable=False),
        sa.Column("platform", sa.String(length=10), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=TRUE, nullable=False),
        sa.Column("session_id", sa.Uuid(), nullable=True),
        sa.Column("device_hash", sa.String(length=64), nullable=True),
        sa.Column("deactivated_reason", sa.String(length=30), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device_tokens")),
        sa.UniqueConstraint("token", name=op.f("uq_device_tokens_token")),
    )
    op.create_index(op.f("ix_device_tokens_identity_id"), "device_tokens", ["identity_id"])

    op.create_table(
        "notification_preferences",
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("push_enabled", sa.Boolean(), server_default=TRUE, nullable=False),
        sa.Column("email_enabled", sa.Boolean(), server_default=TRUE, nullable=False),
        sa.Column("in_app_enabled", sa.Boolean(), server_default=TRUE, nullable=False),
        sa.Column("fasting_notifications", sa.Boolean(), server_default=TRUE, nullable=False),
        sa.Column("workout_notifications", sa.Boolean(), server_default=TRUE, nullable=False),
        sa.Column("streak_notifications", sa.Boolean(), server_default=TRUE, nullable=False),
        sa.Column("achievement_notifications", sa.Boolean(), server_default=TRUE, nullable=False),
        sa.Column("motivational_notifications", sa.Boolean(), server_default=TRUE, nullable=False),
        sa.Column("quiet_hours_enabled", sa.Boolean(), server_default=FALSE, nullable=False),
        sa.Column("quiet_hours_start", sa.Time(), nullable=True),
        sa.Column("quiet_hours_end", sa.Time(), nullable=True),
        sa.Column("daily_motivation_time", sa.Time(), nullable=True),
        sa.Column("email_address", sa.String(length=320), nullable=True),
        sa.Column("reminder_plan", JSON, server_default=sa.text("'{}'"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("identity_id", name=op.f("pk_notification_preferences")),
    )


def downgrade() -> None:
    op.drop_table("notification_preferences")
    op.drop_index(op.f("ix_device_tokens_identity_id"), table_name="device_tokens")
    op.drop_table("device_tokens")
    op.drop_index("ix_notification_deliveries_ticket", table_name="notification_deliveries")
    op.drop_index(op.f("ix_notification_deliveries_identity_id"), table_name="notification_deliveries")
    op.drop_index(op.f("ix_notification_deliveries_notification_id"), table_name="notification_deliveries")
    op.drop_table("notification_deliveries")
    op.drop_index("ix_notifications_identity_created", table_name="notifications")
    op.drop_index("ix_notifications_identity_status", table_name="notifications")
    op.drop_table("notifications")
