"""Research hub logic: topic pages, search (cache → quota → PubMed or the stored library →
papers upserted → digests queued), saved papers and the daily quota.

A search that goes to PubMed must not hold a database transaction (SQLite's write lock, a
PostgreSQL connection) while it waits for NCBI, so it runs in short steps, each in its own
transaction: reserve one unit of the quota (an atomic conditional update), fetch, then store
the papers, the cache entry and the digest jobs together. A failed fetch gives the unit back.
"""

from __future__ import annotations

import hashlib
import math
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, delete, func, or_, select, update

from src.adapters.pubmed import PubMedArticle, PubMedClient, PubMedError
from src.core.persistence import insert_ignore
from src.core.uow import UnitOfWork
from src.database import SessionFactory
from src.modules.profile import profile_service

from .errors import (
    AlreadySaved,
    PaperNotFound,
    ResearchUpstreamUnavailable,
    SavedResearchNotFound,
    SearchNeedsQueryOrTopic,
    SearchQuotaExhausted,
)
from .interface import ResearchInterface
from .library import pubmed_url
from .models import (
    DigestStatus,
    KeyBenefit,
    ResearchDigest,
    ResearchPaper,
    ResearchSource,
    ResearchTopic,
    SavedResearch,
    SearchQuota,
    SearchResponse,
    TopicInfo,
    TopicResponse,
)
from .orm import PaperRow, QueryCacheRow, SavedResearchRow, SearchQuotaRow, TopicPaperRow
from .topics import TOPICS

DIGEST_TOPIC = "research.digest"
REFRESH_TOPIC = "research.refresh_topic"
REFRESH_CLAIM = timedelta(minutes=10)
TOPIC_FETCH_SIZE = 20


def normalise_query(query: str | None) -> str:
    """The form a query is searched and cached under: Unicode-normalised, single spaces, lower
    case except PubMed's Boolean operators (AND, OR, NOT), whose case carries meaning."""
    if not query:
        return ""
    words = unicodedata.normalize("NFKC", query).split()
    return " ".join(word if word in _OPERATORS else word.lower() for word in words)


_OPERATORS = frozenset({"AND", "OR", "NOT"})


def cache_key(normalised_query: str, topic: ResearchTopic | None) -> str:
    return hashlib.sha256(f"q={normalised_query}\x1ft={topic or ''}".encode()).hexdigest()


def pubmed_term(query: str | None, topic: ResearchTopic | None) -> str:
    if query and topic:
        return f"({query}) AND ({TOPICS[topic].query})"
    if topic:
        return TOPICS[topic].query
    return query or ""


def day_bounds(now: datetime, zone: str) -> tuple[date, datetime]:
    """The person's local day at `now` and the instant (UTC) it ends."""
    try:
        tz = ZoneInfo(zone)
    except (KeyError, ValueError):
        tz = ZoneInfo("UTC")
    local = now.astimezone(tz)
    next_midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=tz)
    return local.date(), next_midnight.astimezone(now.tzinfo)


def paper_view(row: PaperRow) -> ResearchPaper:
    digest: ResearchDigest | None = None
    if row.digest_status == DigestStatus.READY and row.one_liner is not None:
        digest = ResearchDigest(
            one_liner=row.one_liner,
            key_benefits=[KeyBenefit.model_validate(b) for b in row.key_benefits or []],
            audience_tags=list(row.audience_tags or []) or ["Research Readers"],
            tldr=row.tldr or "",
            abstract_bullets=list(row.abstract_bullets or []),
        )
    return ResearchPaper(
        id=row.id,
        pmid=row.pmid,
        doi=row.doi,
        title=row.title,
        authors=list(row.authors or []),
        journal=row.journal,
        publication_date=row.publication_date,
        topic=ResearchTopic(row.topic) if row.topic else None,
        digest=digest,
        digest_status=DigestStatus(row.digest_status),
        abstract=row.abstract,
        external_url=row.external_url,
        open_access=row.open_access,
        source=ResearchSource(row.source),
        study_type=row.study_type,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def pubmed_client(uow: UnitOfWork) -> PubMedClient:
    settings = uow.settings
    return PubMedClient(
        uow.resources.http(),
        base_url=settings.pubmed_base_url,
        tool=settings.pubmed_tool,
        email=settings.pubmed_email,
        api_key=settings.ncbi_api_key.get_secret_value() if settings.ncbi_api_key else None,
        throttle=uow.resources.rate_limits,
        timeout_seconds=settings.pubmed_timeout_seconds,
        max_attempts=settings.pubmed_max_attempts,
        backoff_seconds=settings.pubmed_backoff_seconds,
    )


@dataclass(frozen=True)
class Fetched:
    total_count: int
    articles: list[PubMedArticle]


async def fetch_from_pubmed(uow: UnitOfWork, term: str, *, limit: int) -> Fetched:
    client = pubmed_client(uow)
    page = await client.search(term, retmax=limit)
    articles = await client.fetch(page.pmids)
    by_pmid = {a.pmid: a for a in articles}
    return Fetched(total_count=page.count, articles=[by_pmid[p] for p in page.pmids if p in by_pmid])


async def store_articles(
    uow: UnitOfWork, articles: Sequence[PubMedArticle], *, topic: ResearchTopic | None, file_under_topic: bool
) -> list[PaperRow]:
    """Upsert fetched papers (race-free on PMID and DOI) and queue a digest for each new one.
    Returns the stored rows in the order given (a DOI already held under another PMID resolves to
    the paper that holds it)."""
    session = uow.session
    now = uow.now()
    out: list[PaperRow] = []
    seen: set[uuid.UUID] = set()
    for article in articles:
        sections = [{"label": s.label, "category": s.category, "text": s.text} for s in article.sections]
        doi = article.doi if article.doi and len(article.doi) <= 255 else None  # longer ones are not real DOIs
        new_id = uuid.uuid4()
        inserted = await insert_ignore(
            session,
            PaperRow,
            {
                "id": new_id,
                "pmid": article.pmid,
                "doi": doi,
                "title": article.title[:2000],
                "authors": list(article.authors),
                "journal": (article.journal or "")[:500] or None,
                "publication_date": article.publication_date,
                "topic": str(topic) if topic else None,
                "abstract": article.abstract,
                "abstract_sections": sections,
                "external_url": pubmed_url(article.pmid),
                "open_access": article.pmc_id is not None,
                "source": str(ResearchSource.PUBMED),
                "from_library": False,
                "digest_status": str(DigestStatus.PENDING),
                "key_benefits": [],
                "audience_tags": [],
                "abstract_bullets": [],
                "created_at": now,
                "updated_at": now,
            },
        )
        if inserted:
            uow.enqueue(DIGEST_TOPIC, {"paper_id": str(new_id)})
        conditions = [PaperRow.pmid == article.pmid]
        if doi:
            conditions.append(PaperRow.doi == doi)
        same_pmid_first = case((PaperRow.pmid == article.pmid, 0), else_=1)
        row = (
            (await session.execute(select(PaperRow).where(or_(*conditions)).order_by(same_pmid_first)))
            .scalars()
            .first()
        )
        if row is None or row.id in seen:
            continue
        seen.add(row.id)
        if not inserted:
            changed = False
            if row.abstract is None and article.abstract:
                row.abstract, row.abstract_sections = article.abstract, sections
                changed = True
            if article.pmc_id and not row.open_access:
                row.open_access = True
                changed = True
            if row.topic is None and topic is not None:
                row.topic = str(topic)
                changed = True
            if changed:
                row.updated_at = now
        if file_under_topic and topic is not None:
            await insert_ignore(session, TopicPaperRow, {"topic": str(topic), "paper_id": row.id, "added_at": now})
        out.append(row)
    await session.flush()
    return out


async def store_cache(
    uow: UnitOfWork,
    key: str,
    *,
    topic: ResearchTopic | None,
    paper_ids: Sequence[uuid.UUID],
    total_count: int,
    fetched_limit: int,
) -> None:
    now = uow.now()
    expires = now + timedelta(hours=uow.settings.research_cache_hours)
    values: dict[str, Any] = {
        "topic": str(topic) if topic else None,
        "paper_ids": [str(p) for p in paper_ids],
        "total_count": total_count,
        "fetched_limit": fetched_limit,
        "fetched_at": now,
        "expires_at": expires,
        "refreshing_until": None,
    }
    if not await insert_ignore(uow.session, QueryCacheRow, {"key": key, **values}):
        await uow.session.execute(update(QueryCacheRow).where(QueryCacheRow.key == key).values(**values))


class ResearchService(ResearchInterface):
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    # Topics and papers ---------------------------------------------------------------------

    def topics(self) -> list[TopicInfo]:
        return [topic.info() for topic in TOPICS.values()]

    async def topic_page(self, topic: ResearchTopic, *, limit: int) -> TopicResponse:
        members = select(TopicPaperRow.paper_id).where(TopicPaperRow.topic == str(topic))
        rows = (
            await self.session.execute(
                select(PaperRow)
                .where(PaperRow.id.in_(members))
                .order_by(PaperRow.publication_date.desc().nulls_last(), PaperRow.created_at.desc(), PaperRow.pmid)
                .limit(limit)
            )
        ).scalars()
        total = await self.session.scalar(
            select(func.count()).select_from(TopicPaperRow).where(TopicPaperRow.topic == str(topic))
        )
        info = TOPICS[topic]
        return TopicResponse(
            topic=topic,
            topic_label=info.label,
            topic_description=info.description,
            papers=[paper_view(r) for r in rows],
            total_count=int(total or 0),
        )

    async def topic_needs_refresh(self, topic: ResearchTopic) -> bool:
        """Online only: the topic's PubMed answer is missing or expired and nobody is fetching it."""
        if not self.uow.settings.research_online:
            return False
        now = self.uow.now()
        row = await self.session.get(QueryCacheRow, cache_key("", topic))
        if row is None:
            return True
        if row.refreshing_until is not None and row.refreshing_until > now:
            return False
        return row.expires_at <= now

    async def refresh_if_stale(self, topic: ResearchTopic, sessions: SessionFactory) -> bool:
        """Online only: when the topic's PubMed answer is missing or expired and nobody is fetching
        it, queue one background refresh. True when this call queued it."""
        if not await self.topic_needs_refresh(topic):
            return False
        await self.session.rollback()  # one connection at a time (see `search`)
        async with sessions.writer() as session:
            uow = UnitOfWork(session=session, resources=self.uow.resources)
            queued = await ResearchService(uow).claim_topic_refresh(topic)
            await session.commit()
        if queued and self.uow.resources.outbox is not None:
            self.uow.resources.outbox.notify()
        return queued

    async def claim_topic_refresh(self, topic: ResearchTopic) -> bool:
        """Queue one refresh of a stale topic (the first caller wins; the rest see it claimed)."""
        now = self.uow.now()
        key = cache_key("", topic)
        await insert_ignore(
            self.session,
            QueryCacheRow,
            {"key": key, "topic": str(topic), "paper_ids": [], "total_count": 0, "fetched_limit": 0, "expires_at": now},
        )
        claimed = await self.session.execute(
            update(QueryCacheRow)
            .where(
                QueryCacheRow.key == key,
                QueryCacheRow.expires_at <= now,
                or_(QueryCacheRow.refreshing_until.is_(None), QueryCacheRow.refreshing_until <= now),
            )
            .values(refreshing_until=now + REFRESH_CLAIM)
        )
        if claimed.rowcount != 1:  # type: ignore[attr-defined]
            return False
        self.uow.enqueue(REFRESH_TOPIC, {"topic": str(topic)})
        return True

    async def paper(self, paper_id: uuid.UUID) -> ResearchPaper:
        row = await self.session.get(PaperRow, paper_id)
        if row is None:
            raise PaperNotFound("No such paper")
        return paper_view(row)

    async def _papers_in_order(self, ids: Sequence[uuid.UUID]) -> list[PaperRow]:
        if not ids:
            return []
        rows = {r.id: r for r in (await self.session.execute(select(PaperRow).where(PaperRow.id.in_(ids)))).scalars()}
        return [rows[i] for i in ids if i in rows]

    # Search --------------------------------------------------------------------------------

    async def search(
        self,
        identity_id: uuid.UUID,
        *,
        query: str | None,
        topic: ResearchTopic | None,
        limit: int,
        sessions: SessionFactory,
    ) -> SearchResponse:
        normalised = normalise_query(query)
        if not normalised and topic is None:
            raise SearchNeedsQueryOrTopic("Give a query (2–200 characters), a topic, or both")
        zone = await profile_service(self.uow).timezone_of(identity_id)
        online = self.uow.settings.research_online
        key = cache_key(normalised, topic)
        if online:
            hit = await self._cached(key, limit)
            if hit is not None:
                quota = await self.quota(identity_id, zone=zone)
                return SearchResponse(
                    results=hit[0], total_count=hit[1], searches_remaining=quota.searches_remaining, cached=True
                )
        # Hand the request's connection back before taking a writer: a request never holds two
        # connections at once (twenty parallel searches must not exhaust the pool).
        await self.session.rollback()
        reserved = await self._reserve(sessions, identity_id, zone)
        try:
            if not online:
                results, total = await self._search_stored(normalised, topic, limit)
                return SearchResponse(
                    results=results, total_count=total, searches_remaining=reserved.remaining, cached=False
                )
            try:
                fetched = await fetch_from_pubmed(self.uow, pubmed_term(normalised or None, topic), limit=limit)
            except PubMedError as exc:
                raise ResearchUpstreamUnavailable(
                    "PubMed could not be reached; this search did not count against your daily quota",
                    headers={"Retry-After": "30"},
                ) from exc
            views = await self._store_search(sessions, key, topic, fetched, limit)
        except BaseException:
            await self._refund(sessions, identity_id, reserved.day)
            raise
        return SearchResponse(
            results=views, total_count=fetched.total_count, searches_remaining=reserved.remaining, cached=False
        )

    async def _cached(self, key: str, limit: int) -> tuple[list[ResearchPaper], int] | None:
        row = await self.session.get(QueryCacheRow, key)
        if row is None or row.fetched_at is None or row.expires_at <= self.uow.now():
            return None
        ids = [uuid.UUID(i) for i in row.paper_ids]
        if row.fetched_limit < limit and len(ids) < row.total_count:
            return None  # asked PubMed for fewer than this request wants, and more exist
        papers = await self._papers_in_order(ids[:limit])
        return [paper_view(p) for p in papers], row.total_count

    async def _store_search(
        self, sessions: SessionFactory, key: str, topic: ResearchTopic | None, fetched: Fetched, limit: int
    ) -> list[ResearchPaper]:
        async with sessions.writer() as session:
            uow = UnitOfWork(session=session, resources=self.uow.resources)
            # A topic-only search is the topic's own PubMed query (and shares its cache entry): its
            # papers join the topic page. Free text never files papers under a topic.
            rows = await store_articles(
                uow, fetched.articles, topic=topic, file_under_topic=key == cache_key("", topic)
            )
            await store_cache(
                uow,
                key,
                topic=topic,
                paper_ids=[r.id for r in rows],
                total_count=fetched.total_count,
                fetched_limit=limit,
            )
            views = [paper_view(r) for r in rows]
            await session.commit()
        if uow.enqueued and self.uow.resources.outbox is not None:
            self.uow.resources.outbox.notify()
        return views

    async def _search_stored(
        self, normalised: str, topic: ResearchTopic | None, limit: int
    ) -> tuple[list[ResearchPaper], int]:
        """Offline: match the words of the query in the stored papers (title, abstract, digest)."""
        statement = select(PaperRow)
        if topic is not None:
            members = select(TopicPaperRow.paper_id).where(TopicPaperRow.topic == str(topic))
            statement = statement.where(or_(PaperRow.id.in_(members), PaperRow.topic == str(topic)))
        haystack = func.lower(
            PaperRow.title
            + " "
            + func.coalesce(PaperRow.abstract, "")
            + " "
            + func.coalesce(PaperRow.tldr, "")
            + " "
            + func.coalesce(PaperRow.journal, "")
        )
        for word in normalised.split()[:10]:
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            statement = statement.where(haystack.like(f"%{escaped}%", escape="\\"))
        total = await self.session.scalar(select(func.count()).select_from(statement.subquery()))
        rows = (
            await self.session.execute(
                statement.order_by(PaperRow.publication_date.desc().nulls_last(), PaperRow.pmid).limit(limit)
            )
        ).scalars()
        return [paper_view(r) for r in rows], int(total or 0)

    # Quota ---------------------------------------------------------------------------------

    async def quota(self, identity_id: uuid.UUID, *, zone: str | None = None) -> SearchQuota:
        zone = zone or await profile_service(self.uow).timezone_of(identity_id)
        limit = self.uow.settings.research_daily_searches
        today, resets_at = day_bounds(self.uow.now(), zone)
        row = await self.session.get(SearchQuotaRow, identity_id)
        used = row.searches_today if row is not None and row.day == today else 0
        return SearchQuota(
            identity_id=identity_id,
            searches_today=used,
            limit=limit,
            searches_remaining=max(0, limit - used),
            resets_at=resets_at,
        )

    async def _reserve(self, sessions: SessionFactory, identity_id: uuid.UUID, zone: str) -> _Reservation:
        """Take one unit of today's quota in its own committed transaction. The conditional
        update is atomic, so parallel searches never spend more than what is left."""
        now = self.uow.now()
        limit = self.uow.settings.research_daily_searches
        today, resets_at = day_bounds(now, zone)
        async with sessions.writer() as session:
            await insert_ignore(
                session,
                SearchQuotaRow,
                {"identity_id": identity_id, "day": today, "searches_today": 0, "quota_resets_at": resets_at},
            )
            used = (
                await session.execute(
                    update(SearchQuotaRow)
                    .where(
                        SearchQuotaRow.identity_id == identity_id,
                        or_(SearchQuotaRow.day != today, SearchQuotaRow.searches_today < limit),
                    )
                    .values(
                        searches_today=case((SearchQuotaRow.day == today, SearchQuotaRow.searches_today + 1), else_=1),
                        day=today,
                        last_search_at=now,
                        quota_resets_at=resets_at,
                    )
                    .returning(SearchQuotaRow.searches_today)
                )
            ).scalar_one_or_none()
            await session.commit()
        if used is None:
            retry_after = max(1, math.ceil((resets_at - now).total_seconds()))
            raise SearchQuotaExhausted(
                f"You have used your {limit} searches for today; they renew at midnight in your time zone. "
                "Topics, papers and searches already made today stay available.",
                headers={"Retry-After": str(retry_after)},
                extra={"limit": limit, "searches_remaining": 0, "resets_at": resets_at.isoformat()},
            )
        return _Reservation(day=today, remaining=max(0, limit - int(used)))

    async def _refund(self, sessions: SessionFactory, identity_id: uuid.UUID, day: date) -> None:
        async with sessions.writer() as session:
            await session.execute(
                update(SearchQuotaRow)
                .where(
                    SearchQuotaRow.identity_id == identity_id,
                    SearchQuotaRow.day == day,
                    SearchQuotaRow.searches_today > 0,
                )
                .values(searches_today=SearchQuotaRow.searches_today - 1)
            )
            await session.commit()

    # Saved papers --------------------------------------------------------------------------

    async def saved(self, identity_id: uuid.UUID, *, limit: int, offset: int) -> list[SavedResearch]:
        rows = (
            await self.session.execute(
                select(SavedResearchRow, PaperRow)
                .join(PaperRow, PaperRow.id == SavedResearchRow.research_id)
                .where(SavedResearchRow.identity_id == identity_id)
                .order_by(SavedResearchRow.saved_at.desc(), SavedResearchRow.id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
        return [self._saved_view(saved, paper) for saved, paper in rows]

    async def save(self, identity_id: uuid.UUID, research_id: uuid.UUID, *, notes: str | None) -> SavedResearch:
        paper = await self.session.get(PaperRow, research_id)
        if paper is None:
            raise PaperNotFound("No such paper")
        saved_id = uuid.uuid4()
        inserted = await insert_ignore(
            self.session,
            SavedResearchRow,
            {
                "id": saved_id,
                "identity_id": identity_id,
                "research_id": research_id,
                "notes": notes or None,
                "saved_at": self.uow.now(),
            },
        )
        if not inserted:
            raise AlreadySaved("You have already saved this paper")
        row = await self.session.get(SavedResearchRow, saved_id)
        if row is None:  # pragma: no cover - inserted just above
            raise SavedResearchNotFound("No such saved paper")
        return self._saved_view(row, paper)

    async def unsave(self, identity_id: uuid.UUID, saved_id: uuid.UUID) -> None:
        result = await self.session.execute(
            delete(SavedResearchRow).where(SavedResearchRow.id == saved_id, SavedResearchRow.identity_id == identity_id)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise SavedResearchNotFound("No such saved paper")

    @staticmethod
    def _saved_view(saved: SavedResearchRow, paper: PaperRow) -> SavedResearch:
        return SavedResearch(
            id=saved.id,
            identity_id=saved.identity_id,
            research_id=saved.research_id,
            paper=paper_view(paper),
            notes=saved.notes,
            saved_at=saved.saved_at,
        )

    async def purge_expired_searches(self, before: datetime) -> int:
        result = await self.session.execute(
            delete(QueryCacheRow).where(
                QueryCacheRow.expires_at < before,
                or_(QueryCacheRow.refreshing_until.is_(None), QueryCacheRow.refreshing_until < before),
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    # Personal data -------------------------------------------------------------------------

    async def export(self, identity_id: uuid.UUID) -> dict[str, Any]:
        saved = await self.saved(identity_id, limit=1_000_000, offset=0)
        quota = await self.session.get(SearchQuotaRow, identity_id)
        return {
            "saved_papers": [
                {
                    "id": str(s.id),
                    "research_id": str(s.research_id),
                    "pmid": s.paper.pmid,
                    "title": s.paper.title,
                    "notes": s.notes,
                    "saved_at": s.saved_at.isoformat(),
                }
                for s in saved
            ],
            "search_quota": None
            if quota is None
            else {
                "day": quota.day.isoformat(),
                "searches_today": quota.searches_today,
                "last_search_at": quota.last_search_at.isoformat() if quota.last_search_at else None,
            },
        }

    async def erase(self, identity_id: uuid.UUID) -> int:
        total = 0
        for table in (SavedResearchRow, SearchQuotaRow):
            result = await self.session.execute(delete(table).where(table.identity_id == identity_id))
            total += int(result.rowcount)  # type: ignore[attr-defined]
        return total


@dataclass(frozen=True)
class _Reservation:
    day: date
    remaining: int
