"""Searching PubMed (the local fake E-utilities server): parsed papers at once, digests after
commit through the outbox, a cache that hits, no quota for cache hits or upstream failures,
duplicates by PMID and DOI without errors, topic pages refreshed once in the background."""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from src.core.clock import FrozenClock
from src.modules.research.models import ResearchTopic
from src.modules.research.orm import PaperRow
from tests.conftest import client_for
from tests.factories import anonymous_user, fresh_ip, fresh_token

from .fake_eutils import FakeEUtils
from .helpers import PAPERS, QUOTA, SEARCH, TOPICS, assert_problem, drain_outbox, ok, online


@pytest.fixture
def settings_overrides(eutils: FakeEUtils) -> dict[str, object]:
    return online(eutils.url)


async def test_search_returns_parsed_papers_and_digests_follow_after_commit(
    app: FastAPI, client: httpx.AsyncClient, eutils: FakeEUtils
) -> None:
    user = await anonymous_user(app)

    found = ok(await client.get(SEARCH, headers=user.headers, params={"query": "insulin fasting", "limit": 5}))

    assert found["cached"] is False
    assert found["total_count"] == 105  # as esearch counts them
    assert found["searches_remaining"] == 14
    assert [p["pmid"] for p in found["results"]] == ["39000001", "39000002", "39000003", "39000004", "39000006"]
    first = found["results"][0]
    assert first["doi"] == "10.5555/jmt.2024.0001"
    assert first["open_access"] is True
    assert first["publication_date"] == "2024-03-15"
    assert first["topic"] is None  # free text: filed under no topic
    assert first["abstract"].startswith("BACKGROUND: ")
    assert all(p["digest_status"] == "pending" and p["digest"] is None for p in found["results"])
    term = eutils.calls("esearch.fcgi")[0].params
    assert term["term"] == "insulin fasting"
    assert term["tool"] == "ugoki-api"
    assert term["email"] == "research@example.org"

    assert await drain_outbox(app) == 5

    paper = ok(await client.get(f"{PAPERS}/{first['id']}", headers=user.headers))
    assert paper["digest_status"] == "ready"
    digest = paper["digest"]
    assert digest["one_liner"].startswith("Time-restricted eating modestly improved insulin sensitivity")
    assert "RESULTS" not in digest["tldr"]
    assert any(b["title"] == "Weight and body fat" for b in digest["key_benefits"])
    assert "Weight Loss Focus" in digest["audience_tags"]
    assert 1 <= len(digest["abstract_bullets"]) <= 5
    bare = next(p for p in found["results"] if p["pmid"] == "39000004")
    bare = ok(await client.get(f"{PAPERS}/{bare['id']}", headers=user.headers))
    assert bare["digest_status"] == "ready"
    assert bare["digest"]["abstract_bullets"] == []
    assert bare["digest"]["one_liner"] == "Comment on interval training prescriptions."

    # Written once: delivering again changes nothing.
    assert await drain_outbox(app) == 0


async def test_the_same_search_again_is_a_cache_hit_that_costs_no_quota(
    app: FastAPI, client: httpx.AsyncClient, eutils: FakeEUtils
) -> None:
    user = await anonymous_user(app)
    first = ok(await client.get(SEARCH, headers=user.headers, params={"query": "Sleep  Quality", "topic": "sleep"}))
    await drain_outbox(app)

    again = ok(await client.get(SEARCH, headers=user.headers, params={"query": " sleep quality ", "topic": "sleep"}))

    assert again["cached"] is True
    assert again["searches_remaining"] == 14
    assert [p["id"] for p in again["results"]] == [p["id"] for p in first["results"]]
    assert all(p["digest_status"] == "ready" for p in again["results"])
    assert len(eutils.calls("esearch.fcgi")) == 1
    assert ok(await client.get(QUOTA, headers=user.headers))["searches_today"] == 1
    # Another topic, or none, is another search.
    other = ok(await client.get(SEARCH, headers=user.headers, params={"query": "sleep quality"}))
    assert other["cached"] is False
    assert other["searches_remaining"] == 13


async def test_a_cached_search_expires_after_a_day(
    app: FastAPI, client: httpx.AsyncClient, eutils: FakeEUtils, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    ok(await client.get(SEARCH, headers=user.headers, params={"query": "protein"}))
    clock.advance(hours=24, seconds=1)
    user = await fresh_token(app, user)

    again = ok(await client.get(SEARCH, headers=user.headers, params={"query": "protein"}))

    assert again["cached"] is False
    assert len(eutils.calls("esearch.fcgi")) == 2


async def test_a_cache_hit_answers_even_when_the_quota_is_used_up(
    app: FastAPI, client: httpx.AsyncClient, eutils: FakeEUtils
) -> None:
    from datetime import date

    from .helpers import set_searches_used

    user = await anonymous_user(app)
    ok(await client.get(SEARCH, headers=user.headers, params={"query": "naps"}))
    await set_searches_used(app, user.id, 15, date(2026, 3, 10))

    hit = ok(await client.get(SEARCH, headers=user.headers, params={"query": "naps"}))
    assert (hit["cached"], hit["searches_remaining"]) == (True, 0)
    assert_problem(await client.get(SEARCH, headers=user.headers, params={"query": "other"}), 429)


async def test_upstream_failure_is_503_and_spends_no_quota(
    app: FastAPI, client: httpx.AsyncClient, eutils: FakeEUtils
) -> None:
    user = await anonymous_user(app)
    eutils.failures = [503, 503, 503]

    response = await client.get(SEARCH, headers=user.headers, params={"query": "hiit"})

    assert_problem(response, 503, "RESEARCH_UPSTREAM_UNAVAILABLE")
    assert "retry-after" in response.headers
    assert ok(await client.get(QUOTA, headers=user.headers))["searches_today"] == 0
    # Nothing half-stored, nothing cached: the next try goes to PubMed and works.
    found = ok(await client.get(SEARCH, headers=user.headers, params={"query": "hiit"}))
    assert (found["cached"], found["searches_remaining"]) == (False, 14)


async def test_a_doi_held_under_another_pmid_resolves_to_one_paper(
    app: FastAPI, client: httpx.AsyncClient, eutils: FakeEUtils
) -> None:
    user = await anonymous_user(app)
    eutils.results["erratum"] = ["39000005", "39000001"]

    found = ok(await client.get(SEARCH, headers=user.headers, params={"query": "erratum"}))

    assert [p["pmid"] for p in found["results"]] == ["39000005"]
    async with app.state.sessions.reader() as session:
        dois = await session.scalar(
            select(func.count()).select_from(PaperRow).where(PaperRow.doi == "10.5555/jmt.2024.0001")
        )
        second = await session.scalar(select(func.count()).select_from(PaperRow).where(PaperRow.pmid == "39000001"))
    assert (dois, second) == (1, 0)


async def test_parallel_searches_finding_the_same_papers_store_each_once(
    app: FastAPI, client: httpx.AsyncClient, eutils: FakeEUtils
) -> None:
    users = [await anonymous_user(app) for _ in range(4)]
    clients = [client_for(app, fresh_ip()) for _ in users]
    try:
        responses = await asyncio.gather(
            *(
                c.get(SEARCH, headers=u.headers, params={"query": f"interval {i}"})
                for i, (c, u) in enumerate(zip(clients, users, strict=True))
            )
        )
    finally:
        for c in clients:
            await c.aclose()

    assert Counter(r.status_code for r in responses) == {200: 4}, [r.text for r in responses]
    ids = {tuple(p["id"] for p in r.json()["results"]) for r in responses}
    assert len(ids) == 1  # everyone got the same stored rows
    async with app.state.sessions.reader() as session:
        fetched = await session.scalar(select(func.count()).select_from(PaperRow).where(PaperRow.pmid.like("39%")))
    assert fetched == 5
    assert await drain_outbox(app) == 5


async def test_free_text_results_stay_off_topic_pages(
    app: FastAPI, client: httpx.AsyncClient, eutils: FakeEUtils
) -> None:
    user = await anonymous_user(app)
    before = ok(await client.get(f"{TOPICS}/nutrition", headers=user.headers, params={"limit": 20}))
    await drain_outbox(app)  # the page view queued the topic's first refresh
    eutils.requests.clear()

    ok(await client.get(SEARCH, headers=user.headers, params={"query": "protein in older adults"}))

    after = ok(await client.get(f"{TOPICS}/sleep", headers=user.headers, params={"limit": 20}))
    assert all(p["pmid"] != "39000003" for p in after["papers"])
    nutrition = ok(await client.get(f"{TOPICS}/nutrition", headers=user.headers, params={"limit": 20}))
    assert nutrition["total_count"] == before["total_count"] + 5  # its own refresh, not the search


async def test_a_stale_topic_is_refreshed_once_in_the_background(
    app: FastAPI, client: httpx.AsyncClient, eutils: FakeEUtils, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    eutils.results["sleep AND"] = ["39000002", "39000006"]

    first = ok(await client.get(f"{TOPICS}/sleep", headers=user.headers))
    ok(await client.get(f"{TOPICS}/sleep", headers=user.headers))  # someone else looks meanwhile

    assert first["total_count"] == 10  # answered at once from the library
    assert eutils.requests == []  # nothing called during the request
    await drain_outbox(app)
    assert len(eutils.calls("esearch.fcgi")) == 1
    refreshed = ok(await client.get(f"{TOPICS}/sleep", headers=user.headers, params={"limit": 20}))
    assert refreshed["total_count"] == 12
    added = [p for p in refreshed["papers"] if p["pmid"] in ("39000002", "39000006")]
    assert {p["topic"] for p in added} == {"sleep"}
    assert all(p["digest_status"] == "ready" for p in added)  # digests delivered in the same pass

    # Within a day nothing is fetched again; after a day, once more.
    clock.advance(hours=23)
    user = await fresh_token(app, user)
    ok(await client.get(f"{TOPICS}/sleep", headers=user.headers))
    await drain_outbox(app)
    assert len(eutils.calls("esearch.fcgi")) == 1
    clock.advance(hours=2)
    user = await fresh_token(app, user)
    ok(await client.get(f"{TOPICS}/sleep", headers=user.headers))
    await drain_outbox(app)
    assert len(eutils.calls("esearch.fcgi")) == 2
    assert ok(await client.get(f"{TOPICS}/sleep", headers=user.headers))["total_count"] == 12


async def test_search_text_reaches_no_log_line(
    app: FastAPI, client: httpx.AsyncClient, eutils: FakeEUtils, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    from src.core.logging import configure_logging

    configure_logging("INFO", json_output=False)  # what production runs with
    logging.getLogger().addHandler(caplog.handler)
    try:
        user = await anonymous_user(app)
        eutils.failures = [503]
        ok(await client.get(SEARCH, headers=user.headers, params={"query": "zebrafish circadian naps"}))
        await drain_outbox(app)
    finally:
        configure_logging("WARNING", json_output=False)

    messages = [r.getMessage() for r in caplog.records]
    assert any("pubmed request failed" in m for m in messages)  # the retried request was logged...
    assert not [m for m in messages if "zebrafish" in m]  # ...without the query


async def test_a_topic_only_search_fills_the_topic_page_and_its_cache(
    app: FastAPI, client: httpx.AsyncClient, eutils: FakeEUtils
) -> None:
    user = await anonymous_user(app)
    eutils.results["high intensity"] = ["39000002", "39000004"]

    found = ok(await client.get(SEARCH, headers=user.headers, params={"topic": "hiit"}))

    assert {p["topic"] for p in found["results"]} == {"hiit"}
    assert eutils.calls("esearch.fcgi")[0].params["term"].startswith("high intensity interval training OR HIIT")
    page = ok(await client.get(f"{TOPICS}/hiit", headers=user.headers, params={"limit": 20}))
    assert page["total_count"] == 12
    await drain_outbox(app)
    assert len(eutils.calls("esearch.fcgi")) == 1  # the page view found the topic fresh: no refresh


def test_queries_are_normalised_keeping_boolean_operators() -> None:
    from src.modules.research.service import cache_key, normalise_query

    assert normalise_query("  Sleep\u00a0 QUALITY ") == "sleep quality"
    assert normalise_query("fasting AND Insulin or NOT") == "fasting AND insulin or NOT"
    assert cache_key(normalise_query("Sleep Quality"), None) == cache_key(normalise_query("sleep  quality"), None)
    assert cache_key("sleep", None) != cache_key("sleep", ResearchTopic.SLEEP)
    assert cache_key("a AND b", None) != cache_key("a and b", None)


async def test_twenty_parallel_pubmed_searches_with_three_left_spend_three_and_call_pubmed_three_times(
    app: FastAPI, client: httpx.AsyncClient, eutils: FakeEUtils
) -> None:
    from datetime import date

    from .helpers import set_searches_used

    user = await anonymous_user(app)
    await set_searches_used(app, user.id, 12, date(2026, 3, 10))
    clients = [client_for(app, fresh_ip()) for _ in range(20)]
    try:
        responses = await asyncio.gather(
            *(c.get(SEARCH, headers=user.headers, params={"query": f"naps {i}"}) for i, c in enumerate(clients))
        )
    finally:
        for c in clients:
            await c.aclose()

    assert Counter(r.status_code for r in responses) == {200: 3, 429: 17}, [r.text for r in responses]
    assert len(eutils.calls("esearch.fcgi")) == 3
    assert ok(await client.get(QUOTA, headers=user.headers))["searches_remaining"] == 0


async def test_a_failed_topic_refresh_leaves_the_page_answering_and_is_retried_later(
    app: FastAPI, client: httpx.AsyncClient, eutils: FakeEUtils, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    eutils.failures = [503] * 3

    ok(await client.get(f"{TOPICS}/hiit", headers=user.headers))
    assert await drain_outbox(app) == 0  # failed; the outbox backs off

    clock.advance(seconds=5)
    eutils.results["high intensity"] = ["39000004"]
    assert await drain_outbox(app) >= 1
    page = ok(await client.get(f"{TOPICS}/hiit", headers=user.headers, params={"limit": 20}))
    assert page["total_count"] == 11


async def test_maintenance_forgets_expired_search_answers(
    app: FastAPI, client: httpx.AsyncClient, eutils: FakeEUtils, clock: FrozenClock
) -> None:
    from src.modules.research.manifest import purge_expired_searches
    from src.modules.research.orm import QueryCacheRow

    from .helpers import uow_for

    user = await anonymous_user(app)
    ok(await client.get(SEARCH, headers=user.headers, params={"query": "old question"}))
    clock.advance(days=1)
    user = await fresh_token(app, user)
    ok(await client.get(SEARCH, headers=user.headers, params={"query": "new question"}))
    clock.advance(hours=12)

    async with app.state.sessions.writer() as session:
        purged = await purge_expired_searches(uow_for(app, session), clock.now())
        await session.commit()
        left = await session.scalar(select(func.count()).select_from(QueryCacheRow))

    assert (purged, left) == (1, 1)
