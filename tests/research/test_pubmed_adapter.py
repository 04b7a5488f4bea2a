"""The E-utilities client against the local fake server and on recorded-format XML."""

from __future__ import annotations

import itertools
from datetime import date

import httpx
import pytest

from src.adapters.pubmed import PubMedClient, PubMedError, PubMedThrottled, parse_efetch, parse_esearch
from src.core.rate_limit import MemoryStorage

from .eutils_records import efetch_document, esearch_document
from .fake_eutils import FakeEUtils


def _client(http: httpx.AsyncClient, fake: FakeEUtils, **overrides: object) -> PubMedClient:
    options: dict[str, object] = {
        "base_url": fake.url,
        "tool": "ugoki-test",
        "email": "research@example.org",
        "backoff_seconds": 0,
        "timeout_seconds": 2,
    }
    options.update(overrides)
    return PubMedClient(http, **options)  # type: ignore[arg-type]


def test_structured_abstract_keeps_its_labelled_sections_and_identifiers() -> None:
    (article,) = parse_efetch(efetch_document(["39000001"]).encode())

    assert article.pmid == "39000001"
    assert article.title.startswith("Time-restricted eating and insulin sensitivity")
    assert article.authors == ("Nakamura A", "Okafor C")
    assert article.journal == "Journal of Metabolic Timing"
    assert article.publication_date == date(2024, 3, 15)
    assert article.doi == "10.5555/jmt.2024.0001"  # lower-cased
    assert article.pmc_id == "PMC11000001"
    assert [(s.label, s.category) for s in article.sections] == [
        ("BACKGROUND", "BACKGROUND"),
        ("OBJECTIVE", "OBJECTIVE"),
        ("METHODS", "METHODS"),
        ("RESULTS", "RESULTS"),
        ("CONCLUSIONS", "CONCLUSIONS"),
    ]
    assert article.abstract is not None
    assert article.abstract.startswith("BACKGROUND: Eating within")


def test_missing_doi_medline_date_and_inline_markup() -> None:
    (article,) = parse_efetch(efetch_document(["39000002"]).encode())

    assert article.doi is None
    assert article.pmc_id is None
    assert article.publication_date == date(2019, 1, 1)  # "2019 Jan-Feb"
    assert article.title == "Evening high-intensity interval training and sleep quality."
    assert len(article.sections) == 1
    assert article.sections[0].label is None


def test_elocation_doi_season_collective_and_invalid_authors() -> None:
    (article,) = parse_efetch(efetch_document(["39000003"]).encode())

    assert article.doi == "10.5555/nrl.2021.017"  # resolver prefix dropped
    assert article.publication_date == date(2021, 3, 1)  # Spring
    assert article.authors == ("Protein Consensus Group", "Berg L", "Cho M", "Dube T", "Engel S")  # first five valid
    assert [s.label for s in article.sections] == ["FINDINGS", "INTERPRETATION"]


def test_record_without_abstract_parses_with_no_sections() -> None:
    (article,) = parse_efetch(efetch_document(["39000004"]).encode())
    assert article.sections == ()
    assert article.abstract is None
    assert article.publication_date == date(2020, 1, 1)


def test_entity_expansion_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<PubmedArticleSet>&b;</PubmedArticleSet>"
    )
    with pytest.raises(PubMedError):
        parse_efetch(bomb)
    with pytest.raises(PubMedError):
        parse_esearch(b"<html>not xml")


def test_esearch_count_and_ids() -> None:
    page = parse_esearch(esearch_document(["1", "2"], 57).encode())
    assert (page.count, page.pmids) == (57, ("1", "2"))


async def test_search_and_fetch_send_tool_email_and_key(eutils: FakeEUtils) -> None:
    async with httpx.AsyncClient() as http:
        client = _client(http, eutils, api_key="k-123")
        page = await client.search("sleep AND exercise", retmax=2)
        articles = await client.fetch(page.pmids)

    assert page.pmids == ("39000001", "39000002")
    assert [a.pmid for a in articles] == ["39000001", "39000002"]
    search, fetch = eutils.requests
    assert search.path.endswith("/esearch.fcgi")
    assert fetch.path.endswith("/efetch.fcgi")
    assert search.params == {
        "db": "pubmed",
        "term": "sleep AND exercise",
        "retmax": "2",
        "sort": "relevance",
        "tool": "ugoki-test",
        "email": "research@example.org",
        "api_key": "k-123",
    }
    assert fetch.params["id"] == "39000001,39000002"
    assert fetch.params["retmode"] == "xml"


async def test_transient_failures_are_retried_with_back_off(eutils: FakeEUtils) -> None:
    eutils.failures = [503, 429]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with httpx.AsyncClient() as http:
        page = await _client(http, eutils, backoff_seconds=0.5, sleep=sleep).search("x", retmax=1)

    assert page.pmids == ("39000001",)
    assert len(eutils.requests) == 3
    assert waits == [0.5, 1.0]


async def test_gives_up_after_the_last_attempt_and_does_not_retry_a_client_error(eutils: FakeEUtils) -> None:
    eutils.failures = [500, 500, 500]
    async with httpx.AsyncClient() as http:
        with pytest.raises(PubMedError):
            await _client(http, eutils, max_attempts=3).search("x", retmax=1)
        assert len(eutils.requests) == 3

        eutils.reset()
        eutils.failures = [400]
        with pytest.raises(PubMedError):
            await _client(http, eutils, max_attempts=3).search("x", retmax=1)
        assert len(eutils.requests) == 1


async def test_a_slow_server_times_out(eutils: FakeEUtils) -> None:
    eutils.delay = 0.5
    async with httpx.AsyncClient() as http:
        with pytest.raises(PubMedError, match="timeout"):
            await _client(http, eutils, timeout_seconds=0.1, max_attempts=2).search("x", retmax=1)


async def test_requests_share_three_slots_a_second_without_a_key(eutils: FakeEUtils) -> None:
    import time

    storage = MemoryStorage()  # what every worker shares (Redis in production)
    sent: list[float] = []

    async def record(request: httpx.Request) -> None:
        sent.append(time.monotonic())

    async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
        workers = [_client(http, eutils, throttle=storage) for _ in range(2)]
        for i in range(7):
            await workers[i % 2].search("x", retmax=1)

    assert len(eutils.requests) == 7
    for i in range(len(sent) - 3):
        assert sent[i + 3] - sent[i] >= 0.85, sent  # never four within a second (scheduling jitter aside)


async def test_ten_slots_a_second_with_a_key() -> None:
    storage = MemoryStorage()
    async with httpx.AsyncClient() as http:
        keyed = PubMedClient(http, tool="t", email=None, api_key="k", throttle=storage)
        plain = PubMedClient(http, tool="t", email=None, throttle=storage)
    assert (keyed.requests_per_second, plain.requests_per_second) == (10, 3)


async def test_a_spent_budget_raises_instead_of_waiting_forever() -> None:
    class Full:
        async def hit(self, key: str, window: int) -> tuple[int, float]:
            return 99, 0.9

        async def reserve_slot(self, key: str, interval: float) -> float:
            return 7.5

        async def reset(self) -> None:
            return None

    async with httpx.AsyncClient() as http:
        client = PubMedClient(http, tool="t", email=None, throttle=Full(), max_wait_seconds=0.5)
        with pytest.raises(PubMedThrottled):
            await client.search("x", retmax=1)


async def test_redis_paces_the_stream_across_clients() -> None:
    import uuid

    from src.core.rate_limit import RedisStorage

    storage = RedisStorage("redis://127.0.0.1:6379/7")
    key = f"test-pace-{uuid.uuid4()}"
    try:
        try:
            waits = [await storage.reserve_slot(key, 1 / 3) for _ in range(4)]
        except Exception:  # pragma: no cover - no Redis on this machine
            pytest.skip("Redis is not reachable")
    finally:
        await storage.close()

    assert waits[0] == pytest.approx(0, abs=0.05)
    for earlier, later in itertools.pairwise(waits):
        assert later - earlier == pytest.approx(1 / 3, abs=0.05)


async def test_a_429_retry_after_is_honoured_and_a_long_one_gives_up() -> None:
    answers = [httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, text=esearch_document(["7"], 1))]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    def handler(request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = PubMedClient(http, tool="t", email=None, backoff_seconds=0.5, sleep=sleep)
        assert (await client.search("x", retmax=1)).pmids == ("7",)
        assert waits == [2.0]

        answers[:] = [httpx.Response(429, headers={"Retry-After": "60"})] * 3
        with pytest.raises(PubMedError, match="429"):
            await client.search("x", retmax=1)
        assert len(answers) == 2  # asked once, did not hammer
