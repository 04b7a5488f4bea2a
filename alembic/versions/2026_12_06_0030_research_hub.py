"""research hub: papers (shared), topic pages, cached PubMed answers, saved papers, search quotas

Revision ID: eade0913feb1
Revises: f38669213cdd
Create Date: 2026-12-06 00:30:00.000000+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "eade0913feb1"
down_revision: str | Sequence[str] | None = "f38669213cdd"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "research_papers",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("pmid", sa.String(length=20), nullable=False),
        sa.Column("doi", sa.String(length=255), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("authors", JSON, nullable=False),
        sa.Column("journal", sa.String(length=500), nullable=True),
        sa.Column("publication_date", sa.Date(), nullable=True),
        sa.Column("topic", sa.String(length=40), nullable=True),
        sa.Column("abstract", sa.Text(), nullable=True),
        sa.Column("abstract_sections", JSON, nullable=False),
        sa.Column("external_url", sa.String(length=200), nullable=False),
        sa.Column("open_access", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("study_type", sa.String(length=20), nullable=True),
        sa.Column("from_library", sa.Boolean(), nullable=False),
        sa.Column("digest_status", sa.String(length=20), nullable=False),
        sa.Column("digest_source", sa.String(length=20), nullable=True),
        sa.Column("one_liner", sa.Text(), nullable=True),
        sa.Column("key_benefits", JSON, nullable=False),
        sa.Column("audience_tags", JSON, nullable=False),
        sa.Column("tldr", sa.Text(), nullable=True),
        sa.Column("abstract_bullets", JSON, nullable=False),
        sa.Column("ai_processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_research_papers")),
        sa.UniqueConstraint("doi", name=op.f("uq_research_papers_doi")),
        sa.UniqueConstraint("pmid", name=op.f("uq_research_papers_pmid")),
    )
    op.create_table(
        "research_query_cache",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=40), nullable=True),
        sa.Column("paper_ids", JSON, nullable=False),
        sa.Column("total_count", sa.Integer(), nullable=False),
        sa.Column("fetched_limit", sa.Integer(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refreshing_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_research_query_cache")),
    )
    with op.batch_alter_table("research_query_cache", schema=None) as batch_op:
        batch_op.create_index("ix_research_query_cache_expires", ["expires_at"], unique=False)

    op.create_table(
        "user_search_quotas",
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("searches_today", sa.Integer(), nullable=False),
        sa.Column("last_search_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("quota_resets_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("identity_id", name=op.f("pk_user_search_quotas")),
    )
    op.create_table(
        "research_topic_papers",
        sa.Column("topic", sa.String(length=40), nullable=False),
        sa.Column("paper_id", sa.Uuid(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["paper_id"],
            ["research_papers.id"],
            name=op.f("fk_research_topic_papers_paper_id_research_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("topic", "paper_id", name=op.f("pk_research_topic_papers")),
    )
    with op.batch_alter_table("research_topic_papers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_research_topic_papers_paper_id"), ["paper_id"], unique=False)

    op.create_table(
        "user_saved_research",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("identity_id", sa.Uuid(), nullable=False),
        sa.Column("research_id", sa.Uuid(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["research_id"],
            ["research_papers.id"],
            name=op.f("fk_user_saved_research_research_id_research_papers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_saved_research")),
        sa.UniqueConstraint(
            "identity_id", "research_id", name=op.f("uq_user_saved_research_identity_id_research_id")
        ),
    )
    with op.batch_alter_table("user_saved_research", schema=None) as batch_op:
        batch_op.create_index("ix_user_saved_research_identity_saved", ["identity_id", "saved_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_user_saved_research_research_id"), ["research_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_saved_research", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_saved_research_research_id"))
        batch_op.drop_index("ix_user_saved_research_identity_saved")
    op.drop_table("user_saved_research")
    with op.batch_alter_table("research_topic_papers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_research_topic_papers_paper_id"))
    op.drop_table("research_topic_papers")
    op.drop_table("user_search_quotas")
    with op.batch_alter_table("research_query_cache", schema=None) as batch_op:
        batch_op.drop_index("ix_research_query_cache_expires")
    op.drop_table("research_query_cache")
    op.drop_table("research_papers")
