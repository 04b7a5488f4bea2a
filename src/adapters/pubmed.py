"""NCBI E-utilities client: `esearch` (PMIDs for a query) and `efetch` (PubMed XML records).

NCBI asks every client to send `tool` and `email` and to stay under 3 requests a second (10 with an
API key). The budget is shared by every worker of the service: requests are paced through the
rate-limit storage (process memory, or Redis when configured), each taking the next free moment
of one stream spaced 1/3 s (1/10 s) apart. Transient failures (timeouts,
connection errors, 429 and 5xx answers) are retried with exponential back-off; anything else,
or the last failure, raises `PubMedError`.

The XML is parsed with `defusedxml` (no entity expansion, no external entities). Records are
read as PubMed writes them: structured abstracts with `Label`/`NlmCategory` sections, inline
markup in titles, publication dates as `Year/Month/Day` or free-text `MedlineDate`
("2019 Jan-Feb"), DOIs in `ArticleIdList` or `ELocationID` (or none at all).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING
from xml.etree.ElementTree import Element

import httpx
from defusedxml import ElementTree as SafeElementTree
from defusedxml.common import DefusedXmlException

if TYPE_CHECKING:
    from src.core.rate_limit import Storage

logger = logging.getLogger("ugoki.adapters.pubmed")

DEFAULT_BASE_URL = "https://eutils.ncbi.nlm.nih.gov/entrez/eutils"
THROTTLE_KEY = "pubmed:eutils"
MAX_AUTHORS = 5
_MONTHS = {
    m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1)
}
_SEASONS = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}


class PubMedError(Exception):
    """E-utilities could not answer (after the retries), or answered something unreadable."""


class PubMedThrottled(PubMedError):
    """No request slot became free in time (the shared budget is spent by other requests)."""


@dataclass(frozen=True)
class AbstractSection:
    label: str | None  # as printed ("RESULTS"), None for an unstructured abstract
    category: str | None  # NLM's normalised category (BACKGROUND, OBJECTIVE, METHODS, RESULTS, CONCLUSIONS)
    text: str


@dataclass(frozen=True)
class PubMedArticle:
    pmid: str
    title: str
    authors: tuple[str, ...]  # "Surname Initials", at most MAX_AUTHORS
    journal: str | None
    publication_date: date | None
    doi: str | None
    pmc_id: str | None
    sections: tuple[AbstractSection, ...]

    @property
    def abstract(self) -> str | None:
        if not self.sections:
            return None
        parts = [f"{s.label}: {s.text}" if s.label else s.text for s in self.sections]
        return "\n\n".join(parts)


@dataclass(frozen=True)
class SearchPage:
    count: int  # how many records match in all
    pmids: tuple[str, ...]  # this page, in the order asked for


Sleep = Callable[[float], Awaitable[None]]


class PubMedClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str = DEFAULT_BASE_URL,
        tool: str,
        email: str | None,
        api_key: str | None = None,
        throttle: Storage | None = None,
        timeout_seconds: float = 10.0,
        max_attempts: int = 3,
        backoff_seconds: float = 0.5,
        max_wait_seconds: float = 5.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.tool = tool
        self.email = email
        self.api_key = api_key
        self.throttle = throttle
        self.timeout = timeout_seconds
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff_seconds
        self.max_wait = max_wait_seconds
        self._sleep = sleep

    @property
    def requests_per_second(self) -> int:
        return 10 if self.api_key else 3

    async def search(self, term: str, *, retmax: int, sort: str = "relevance") -> SearchPage:
        body = await self._get("esearch.fcgi", {"db": "pubmed", "term": term, "retmax": str(retmax), "sort": sort})
        return parse_esearch(body)

    async def fetch(self, pmids: Sequence[str]) -> list[PubMedArticle]:
        if not pmids:
            return []
        body = await self._get("efetch.fcgi", {"db": "pubmed", "id": ",".join(pmids), "retmode": "xml"})
        return parse_efetch(body)

    # Transport --------------------------------------------------------------------------------

    def _params(self, params: dict[str, str]) -> dict[str, str]:
        out = dict(params, tool=self.tool)
        if self.email:
            out["email"] = self.email
        if self.api_key:
            out["api_key"] = self.api_key
        return out

    async def _get(self, endpoint: str, params: dict[str, str]) -> bytes:
        url = f"{self.base_url}/{endpoint}"
        last: str = "no attempt"
        asked_wait = 0.0  # what a 429 answer's Retry-After asked for
        for attempt in range(1, self.max_attempts + 1):
            await self._take_slot()
            try:
                response = await self.http.get(url, params=self._params(params), timeout=self.timeout)
            except httpx.TimeoutException:
                last = "timeout"
            except httpx.TransportError as exc:
                last = type(exc).__name__
            else:
                if response.status_code == 200:
                    return response.content
                last = f"HTTP {response.status_code}"
                if response.status_code != 429 and response.status_code < 500:
                    raise PubMedError(f"E-utilities {endpoint} answered {last}")
                asked_wait = _retry_after(response) if response.status_code == 429 else 0.0
            logger.warning("pubmed request failed: endpoint=%s attempt=%d reason=%s", endpoint, attempt, last)
            if attempt < self.max_attempts:
                if asked_wait > self.max_wait:
                    break  # NCBI asks for a longer pause than a request can wait
                await self._sleep(max(self.backoff * 2 ** (attempt - 1), asked_wait))
        raise PubMedError(f"E-utilities {endpoint} unavailable ({last})")

    async def _take_slot(self) -> None:
        """Wait for this client's turn in the request stream shared by every worker: one request
        every 1/3 s without an API key (1/10 s with one), so never more than NCBI allows in any
        second."""
        if self.throttle is None:
            return
        try:
            wait = await self.throttle.reserve_slot(THROTTLE_KEY, 1.0 / self.requests_per_second)
        except Exception:  # storage outage: proceed (the rate limiter fails open the same way)
            logger.warning("pubmed throttle storage unavailable")
            return
        if wait > self.max_wait:
            raise PubMedThrottled("no E-utilities request slot became free in time")
        if wait > 0:
            await self._sleep(wait)


def _retry_after(response: httpx.Response) -> float:
    value = response.headers.get("retry-after", "").strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        return 0.0


# Parsing ------------------------------------------------------------------------------------------


def _parse(body: bytes) -> Element:
    try:
        return SafeElementTree.fromstring(body)
    except (SafeElementTree.ParseError, DefusedXmlException) as exc:
        raise PubMedError(f"unreadable E-utilities XML ({type(exc).__name__})") from exc


def _text(element: Element | None) -> str:
    """All text inside an element (titles and abstracts carry inline <i>, <sup>, ... markup)."""
    if element is None:
        return ""
    return re.sub(r"\s+", " ", "".join(element.itertext())).strip()


def parse_esearch(body: bytes) -> SearchPage:
    root = _parse(body)
    if root.tag != "eSearchResult":
        raise PubMedError(f"unexpected esearch document <{root.tag}>")
    error = root.find("ERROR")
    if error is not None and error.text:
        raise PubMedError("E-utilities search error")
    count_text = root.findtext("Count") or "0"
    try:
        count = int(count_text)
    except ValueError as exc:
        raise PubMedError("esearch Count is not a number") from exc
    pmids = tuple(i.text.strip() for i in root.findall("IdList/Id") if i.text and i.text.strip().isdigit())
    return SearchPage(count=count, pmids=pmids)


def parse_efetch(body: bytes) -> list[PubMedArticle]:
    root = _parse(body)
    if root.tag != "PubmedArticleSet":
        raise PubMedError(f"unexpected efetch document <{root.tag}>")
    out: list[PubMedArticle] = []
    for record in root.findall("PubmedArticle"):
        article = _article(record)
        if article is not None:
            out.append(article)
    return out


def _article(record: Element) -> PubMedArticle | None:
    citation = record.find("MedlineCitation")
    if citation is None:
        return None
    pmid = (citation.findtext("PMID") or "").strip()
    article = citation.find("Article")
    if not pmid.isdigit() or article is None:
        return None
    title = _text(article.find("ArticleTitle")) or _text(article.find("VernacularTitle"))
    if not title:
        return None
    journal = article.find("Journal")
    journal_title = _text(journal.find("Title")) if journal is not None else ""
    pub_date = journal.find("JournalIssue/PubDate") if journal is not None else None
    published = _pub_date(pub_date) or _pub_date(article.find("ArticleDate"))
    return PubMedArticle(
        pmid=pmid,
        title=title,
        authors=_authors(article.find("AuthorList")),
        journal=journal_title or None,
        publication_date=published,
        doi=_doi(record, article),
        pmc_id=_article_id(record, "pmc"),
        sections=_sections(article.find("Abstract")),
    )


def _authors(author_list: Element | None) -> tuple[str, ...]:
    if author_list is None:
        return ()
    names: list[str] = []
    for author in author_list.findall("Author"):
        if author.get("ValidYN", "Y") != "Y":
            continue
        collective = _text(author.find("CollectiveName"))
        last = _text(author.find("LastName"))
        initials = _text(author.find("Initials"))
        name = f"{last} {initials}".strip() if last else collective
        if name:
            names.append(name)
        if len(names) == MAX_AUTHORS:
            break
    return tuple(names)


def _sections(abstract: Element | None) -> tuple[AbstractSection, ...]:
    if abstract is None:
        return ()
    out: list[AbstractSection] = []
    for part in abstract.findall("AbstractText"):
        text = _text(part)
        if not text:
            continue
        label = (part.get("Label") or "").strip() or None
        category = (part.get("NlmCategory") or "").strip().upper() or None
        if category == "UNASSIGNED":
            category = None
        out.append(AbstractSection(label=label, category=category, text=text))
    return tuple(out)


def _article_id(record: Element, kind: str) -> str | None:
    for node in record.findall("PubmedData/ArticleIdList/ArticleId"):
        if node.get("IdType") == kind and node.text and node.text.strip():
            return node.text.strip()
    return None


def _doi(record: Element, article: Element) -> str | None:
    found = _article_id(record, "doi")
    if found is None:
        for node in article.findall("ELocationID"):
            if node.get("EIdType") == "doi" and node.get("ValidYN", "Y") == "Y" and node.text:
                found = node.text.strip()
                break
    return normalise_doi(found) if found else None


def normalise_doi(value: str) -> str | None:
    """DOIs are case-insensitive: stored lower-case, without a resolver prefix."""
    doi = value.strip()
    doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:\s*)", "", doi, flags=re.IGNORECASE)
    return doi.lower() if doi.startswith("10.") else None


def _pub_date(node: Element | None) -> date | None:
    if node is None:
        return None
    year_text = (node.findtext("Year") or "").strip()
    if year_text.isdigit():
        month = _month(node.findtext("Month") or "") or _season(node.findtext("Season") or "") or 1
        day_text = (node.findtext("Day") or "").strip()
        day = int(day_text) if day_text.isdigit() else 1
        return _safe_date(int(year_text), month, day)
    medline = (node.findtext("MedlineDate") or "").strip()
    if medline:
        return _medline_date(medline)
    return None


def _month(text: str) -> int | None:
    text = text.strip()
    if text.isdigit():
        value = int(text)
        return value if 1 <= value <= 12 else None
    return _MONTHS.get(text[:3].lower())


def _season(text: str) -> int | None:
    return _SEASONS.get(text.strip().lower())


def _medline_date(text: str) -> date | None:
    """Free-text dates such as "2019 Jan-Feb", "2018 Dec-2019 Jan", "2020 Spring", "1998-1999"."""
    match = re.match(r"^(\d{4})(?:\s+([A-Za-z]+))?(?:\s+(\d{1,2}))?", text)
    if not match:
        return None
    year = int(match.group(1))
    word = match.group(2) or ""
    month = _month(word) or _season(word) or 1
    day = int(match.group(3)) if match.group(3) else 1
    return _safe_date(year, month, day)


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        try:
            return date(year, month, 1)
        except ValueError:
            return None
