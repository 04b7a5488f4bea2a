from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from src.core.types import JSONType, UTCDateTime
from src.database import Base


class PaperRow(Base):
    """A paper, shared by everyone. PMID and DOI (lower-case) are each unique."""

    __tablename__ = "research_papers"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    pmid: Mapped[str] = mapped_column(String(20), unique=True)
    doi: Mapped[str | None] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(JSONType, default=list)
    journal: Mapped[str | None] = mapped_column(String(500))
    publication_date: Mapped[date | None] = mapped_column(Date)
    # The topic the paper was first found under (library, topic page or a search with a topic);
    # None for papers found only by free text.
    topic: Mapped[str | None] = mapped_column(String(40))
    abstract: Mapped[str | None] = mapped_column(Text)
    # Structured abstract as PubMed labels it: [{"label", "category", "text"}].
    abstract_sections: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    external_url: Mapped[str] = mapped_column(String(200))
    open_access: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(20))
    study_type: Mapped[str | None] = mapped_column(String(20))
    from_library: Mapped[bool] = mapped_column(Boolean, default=False)
    # Digest (written once: by the seed for the library, after commit for fetched papers).
    digest_status: Mapped[str] = mapped_column(String(20))
    digest_source: Mapped[str | None] = mapped_column(String(20))  # library, extractive or llm
    one_liner: Mapped[str | None] = mapped_column(Text)
    key_benefits: Mapped[list[dict[str, str]]] = mapped_column(JSONType, default=list)
    audience_tags: Mapped[list[str]] = mapped_column(JSONType, default=list)
    tldr: Mapped[str | None] = mapped_column(Text)
    abstract_bullets: Mapped[list[str]] = mapped_column(JSONType, default=list)
    ai_processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TopicPaperRow(Base):
    """Which papers a topic page lists: the library's and those a topic fetch returned."""

    __tablename__ = "research_topic_papers"

    topic: Mapped[str] = mapped_column(String(40), primary_key=True)
    paper_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("research_papers.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class QueryCacheRow(Base):
    """A PubMed answer kept for a while, keyed by a hash of the normalised query and topic (the
    query text itself is not stored)."""

    __tablename__ = "research_query_cache"
    __table_args__ = (Index("ix_research_query_cache_expires", "expires_at"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    topic: Mapped[str | None] = mapped_column(String(40))
    paper_ids: Mapped[list[str]] = mapped_column(JSONType, default=list)
    total_count: Mapped[int] = mapped_column(Integer, default=0)
    fetched_limit: Mapped[int] = mapped_column(Integer, default=0)  # how many were asked for
    fetched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # A topic refresh claimed by one request (so one fetch runs, not one per viewer).
    refreshing_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SavedResearchRow(Base):
    __tablename__ = "user_saved_research"
    __table_args__ = (
        UniqueConstraint("identity_id", "research_id"),
        Index("ix_user_saved_research_identity_saved", "identity_id", "saved_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    identity_id: Mapped[uuid.UUID] = mapped_column()
    research_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("research_papers.id", ondelete="CASCADE"), index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime())


class SearchQuotaRow(Base):
    """Searches of one person's current local day."""

    __tablename__ = "user_search_quotas"

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    searches_today: Mapped[int] = mapped_column(Integer, default=0)
    last_search_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    quota_resets_at: Mapped[datetime] = mapped_column(UTCDateTime())
