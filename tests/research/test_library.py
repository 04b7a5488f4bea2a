"""Useful offline from the first start: the starter library answers every topic with digests."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from src.core.clock import FrozenClock
from src.main import create_app
from src.modules.research.library import library, seed_library
from src.modules.research.orm import PaperRow, TopicPaperRow
from tests.conftest import DEFAULT_NOW, client_for
from tests.factories import anonymous_user

from .fake_eutils import FakeEUtils
from .helpers import PAPERS, SEARCH, TOPIC_IDS, TOPICS, ok, uow_for


@pytest.mark.parametrize("settings_overrides", [{"seed_on_startup": True}], indirect=True)
async def test_a_fresh_start_offline_answers_every_topic_with_ten_digested_papers(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)

    for topic in TOPIC_IDS:
        page = ok(await client.get(f"{TOPICS}/{topic}", headers=user.headers, params={"limit": 10}))
        assert page["topic"] == topic
        assert page["total_count"] == 10
        assert len(page["papers"]) == 10
        for paper in page["papers"]:
            assert paper["topic"] == topic
            assert paper["digest_status"] == "ready"
            digest = paper["digest"]
            assert digest["one_liner"]
            assert len(digest["one_liner"]) <= 160
            assert 1 <= len(digest["key_benefits"]) <= 5
            assert 1 <= len(digest["audience_tags"]) <= 4
            assert all(len(tag) <= 30 for tag in digest["audience_tags"])
            assert digest["tldr"]
            assert len(digest["tldr"]) <= 500
            assert 1 <= len(digest["abstract_bullets"]) <= 5
            assert all(len(b) <= 150 for b in digest["abstract_bullets"])
            assert paper["external_url"] == f"https://pubmed.ncbi.nlm.nih.gov/{paper['pmid']}/"
            assert paper["source"] == "pubmed"
        dates = [p["publication_date"] for p in page["papers"]]
        assert dates == sorted(dates, reverse=True)


async def test_topic_list_has_the_four_topics_with_their_labels(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    topics = ok(await client.get(TOPICS, headers=user.headers))

    assert [t["id"] for t in topics] == list(TOPIC_IDS)
    assert topics[0] == {
        "id": "intermittent_fasting",
        "label": "Intermittent Fasting",
        "description": topics[0]["description"],
        "icon": "fork-knife",
        "color": "#14b8a6",
    }


async def test_reseeding_the_library_changes_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    before = ok(await client.get(f"{TOPICS}/sleep", headers=user.headers))

    async with app.state.sessions.writer() as session:
        report = await seed_library(uow_for(app, session))
        await session.commit()
        papers = await session.scalar(select(func.count()).select_from(PaperRow))
        memberships = await session.scalar(select(func.count()).select_from(TopicPaperRow))

    assert (report.inserted, report.updated) == (0, 0)
    assert (papers, memberships) == (40, 40)
    assert ok(await client.get(f"{TOPICS}/sleep", headers=user.headers)) == before


async def test_paper_detail_answers_a_library_paper_and_404_for_an_unknown_id(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    page = ok(await client.get(f"{TOPICS}/hiit", headers=user.headers, params={"limit": 1}))
    paper = page["papers"][0]

    assert ok(await client.get(f"{PAPERS}/{paper['id']}", headers=user.headers)) == paper
    missing = await client.get(f"{PAPERS}/00000000-0000-0000-0000-000000000000", headers=user.headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "RESEARCH_PAPER_NOT_FOUND"


def test_library_digests_are_made_by_our_summariser_within_the_limits() -> None:
    from src.modules.research.library import library_digest

    for paper in library().papers:
        digest = library_digest(paper)
        assert digest["one_liner"]
        assert len(digest["key_benefits"]) <= 5
        assert len(digest["audience_tags"]) <= 4


@pytest.mark.parametrize("path", [TOPICS, f"{TOPICS}/sleep", f"{PAPERS}/00000000-0000-0000-0000-000000000000"])
async def test_reads_need_a_token(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 401


async def test_offline_nothing_is_sent_to_pubmed(app: FastAPI, eutils: FakeEUtils) -> None:
    """RESEARCH_ONLINE=false (the default) even with an E-utilities address configured."""
    settings = app.state.resources.settings.model_copy(update={"pubmed_base_url": eutils.url})
    offline = create_app(settings, clock=FrozenClock(DEFAULT_NOW), engine=app.state.sessions.engine)
    async with offline.router.lifespan_context(offline):
        user = await anonymous_user(offline)
        async with client_for(offline) as client:
            for topic in TOPIC_IDS:
                ok(await client.get(f"{TOPICS}/{topic}", headers=user.headers))
            found = ok(await client.get(SEARCH, headers=user.headers, params={"query": "sleep"}))

    assert settings.research_online is False
    assert found["results"]
    assert all(p["digest_status"] == "ready" for p in found["results"])
    assert eutils.requests == []
