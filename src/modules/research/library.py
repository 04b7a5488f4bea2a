"""The starter library: 40 papers (10 per topic) kept in `data/library.json` with their
bibliographic metadata and short plain-language notes of ours. Seeded idempotently at start-up
(upsert by PMID); each paper's digest is made at seed time by the offline summariser from those
notes, so topics answer with digests on a first start with no network and no language model.
Re-seeding never touches saved papers or digests already written."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select

from src.core.persistence import insert_ignore
from src.core.uow import UnitOfWork

from .models import DigestStatus, ResearchSource, ResearchTopic
from .orm import PaperRow, TopicPaperRow
from .summariser import Section, summarise

DATA = Path(__file__).parent / "data" / "library.json"
MAX_AUTHORS = 5
STUDY_TYPES = {"review", "meta-analysis", "rct", "cohort", "guideline"}


class LibraryNotes(BaseModel):
    headline: str = Field(min_length=10, max_length=200)
    summary: str = Field(min_length=20, max_length=600)
    points: list[str] = Field(min_length=1, max_length=6)


class LibraryPaper(BaseModel):
    pmid: str = Field(pattern=r"^\d{1,10}$")
    doi: str = Field(pattern=r"^10\.\S+$")
    title: str = Field(min_length=5)
    authors: list[str]
    journal: str
    year: int = Field(ge=1900, le=2100)
    topic: ResearchTopic
    study_type: str
    audience: list[str]
    notes: LibraryNotes

    @model_validator(mode="after")
    def _known_type(self) -> LibraryPaper:
        if self.study_type not in STUDY_TYPES:
            raise ValueError(f"{self.pmid}: unknown study type {self.study_type}")
        return self


class Library(BaseModel):
    papers: list[LibraryPaper]

    @model_validator(mode="after")
    def _unique(self) -> Library:
        if len({p.pmid for p in self.papers}) != len(self.papers):
            raise ValueError("library PMIDs must be unique")
        if len({p.doi.lower() for p in self.papers}) != len(self.papers):
            raise ValueError("library DOIs must be unique")
        return self


@lru_cache(maxsize=1)
def library() -> Library:
    return Library.model_validate(json.loads(DATA.read_text("utf-8")))


def pubmed_url(pmid: str) -> str:
    return f"https://pubmed.ncbi.nlm.nih.gov/{pmid}/"


def library_digest(paper: LibraryPaper) -> dict[str, Any]:
    digest = summarise(
        title=paper.title,
        sections=[
            Section("HEADLINE", None, paper.notes.headline),
            Section("SUMMARY", None, paper.notes.summary),
            *(
                Section("KEY POINTS", None, point if point.endswith(".") else f"{point}.")
                for point in paper.notes.points
            ),
        ],
        topic=paper.topic,
        audience_hints=paper.audience,
    )
    return {
        "one_liner": digest.one_liner,
        "key_benefits": [b.model_dump() for b in digest.key_benefits],
        "audience_tags": list(digest.audience_tags),
        "tldr": digest.tldr,
        "abstract_bullets": list(digest.abstract_bullets),
    }


@dataclass
class SeedReport:
    inserted: int = 0
    updated: int = 0


async def seed_library(uow: UnitOfWork) -> SeedReport:
    session = uow.session
    now = uow.now()
    report = SeedReport()
    papers = library().papers
    existing = {
        row.pmid: row
        for row in (
            await session.execute(select(PaperRow).where(PaperRow.pmid.in_([p.pmid for p in papers])))
        ).scalars()
    }
    for paper in papers:
        metadata: dict[str, Any] = {
            "title": paper.title,
            "authors": [a for a in paper.authors if a != "et al."][:MAX_AUTHORS],
            "journal": paper.journal,
            "publication_date": date(paper.year, 1, 1),
            "study_type": paper.study_type,
        }
        row = existing.get(paper.pmid)
        if row is None:
            inserted = await insert_ignore(
                session,
                PaperRow,
                {
                    "id": uuid.uuid4(),
                    "pmid": paper.pmid,
                    "doi": paper.doi.lower(),
                    "topic": str(paper.topic),
                    "abstract_sections": [],
                    "external_url": pubmed_url(paper.pmid),
                    "open_access": False,
                    "source": str(ResearchSource.PUBMED),
                    "from_library": True,
                    "digest_status": str(DigestStatus.READY),
                    "digest_source": "library",
                    "ai_processed_at": now,
                    "created_at": now,
                    "updated_at": now,
                    **metadata,
                    **library_digest(paper),
                },
            )
            report.inserted += int(inserted)
            row = (await session.execute(select(PaperRow).where(PaperRow.pmid == paper.pmid))).scalar_one_or_none()
            if row is None:  # the DOI is held by a paper fetched earlier under another PMID
                continue
        else:
            changed = False
            for key, value in metadata.items():
                if getattr(row, key) != value:
                    setattr(row, key, value)
                    changed = True
            if not row.from_library:
                row.from_library = True
                changed = True
            if row.digest_status != DigestStatus.READY:  # fetched before the library knew it
                for key, value in library_digest(paper).items():
                    setattr(row, key, value)
                row.digest_status, row.digest_source, row.ai_processed_at = DigestStatus.READY, "library", now
                changed = True
            if changed:
                row.updated_at = now
                report.updated += 1
        await insert_ignore(session, TopicPaperRow, {"topic": str(paper.topic), "paper_id": row.id, "added_at": now})
    await session.flush()
    return report
