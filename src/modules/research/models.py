from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from src.core.validation import RequestBody, StorableText

MAX_NOTES = 500


class ResearchTopic(StrEnum):
    INTERMITTENT_FASTING = "intermittent_fasting"
    HIIT = "hiit"
    NUTRITION = "nutrition"
    SLEEP = "sleep"


class ResearchSource(StrEnum):
    PUBMED = "pubmed"
    OPENALEX = "openalex"
    EUROPEPMC = "europepmc"


class DigestStatus(StrEnum):
    PENDING = "pending"  # queued: filled shortly after the answer that found the paper
    READY = "ready"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)


class TopicInfo(_Frozen):
    id: ResearchTopic
    label: str
    description: str
    icon: str
    color: str


class KeyBenefit(_Frozen):
    emoji: str = Field(max_length=8)
    title: str = Field(max_length=50)
    description: str = Field(max_length=200)


class ResearchDigest(_Frozen):
    one_liner: str = Field(max_length=200)
    key_benefits: list[KeyBenefit] = Field(default_factory=list, max_length=5)
    audience_tags: list[str] = Field(default_factory=lambda: ["Research Readers"], max_length=4)
    tldr: str = Field(max_length=500)
    abstract_bullets: list[str] = Field(default_factory=list, max_length=5)


class ResearchPaper(_Frozen):
    id: UUID
    pmid: str | None
    doi: str | None
    title: str
    authors: list[str]
    journal: str | None
    publication_date: date | None
    topic: ResearchTopic | None = Field(
        description="The topic the paper was found under; null for papers found only by a free-text search"
    )
    digest: ResearchDigest | None
    digest_status: DigestStatus = Field(description="`pending` until the digest is written after the answer")
    abstract: str | None
    external_url: str
    open_access: bool
    source: ResearchSource
    study_type: str | None = None
    created_at: datetime
    updated_at: datetime


class SearchResponse(_Frozen):
    results: list[ResearchPaper]
    total_count: int
    searches_remaining: int
    cached: bool


class TopicResponse(_Frozen):
    topic: ResearchTopic
    topic_label: str
    topic_description: str
    papers: list[ResearchPaper]
    total_count: int


class SaveResearchRequest(RequestBody):
    research_id: UUID
    notes: StorableText | None = Field(default=None, max_length=MAX_NOTES)


class SavedResearch(_Frozen):
    id: UUID
    identity_id: UUID
    research_id: UUID
    paper: ResearchPaper
    notes: str | None
    saved_at: datetime


class SearchQuota(_Frozen):
    identity_id: UUID
    searches_today: int
    limit: int
    searches_remaining: int
    resets_at: datetime = Field(description="When the count starts again: the next midnight of your time zone")
