"""Saved papers with notes, per person; exported and erased with the account."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from src.modules.research.orm import PaperRow, SavedResearchRow, SearchQuotaRow
from tests.conftest import client_for
from tests.factories import anonymous_user, fresh_ip

from .helpers import ALL_DATA, EXPORT, SAVED, SEARCH, TOPICS, assert_problem, ok


async def _papers(client: httpx.AsyncClient, headers: dict[str, str], n: int = 2) -> list[dict[str, object]]:
    page = ok(await client.get(f"{TOPICS}/nutrition", headers=headers, params={"limit": n}))
    return list(page["papers"])


async def test_save_a_paper_with_notes_and_list_newest_first(
    app: FastAPI, client: httpx.AsyncClient, clock: object
) -> None:
    user = await anonymous_user(app)
    first, second = await _papers(client, user.headers)

    saved = ok(
        await client.post(SAVED, headers=user.headers, json={"research_id": first["id"], "notes": "read the methods"}),
        201,
    )
    assert saved["identity_id"] == user.id
    assert saved["research_id"] == first["id"]
    assert saved["paper"] == first
    assert saved["notes"] == "read the methods"
    clock.advance(seconds=5)  # type: ignore[attr-defined]
    ok(await client.post(SAVED, headers=user.headers, json={"research_id": second["id"]}), 201)

    listed = ok(await client.get(SAVED, headers=user.headers))
    assert [s["research_id"] for s in listed] == [second["id"], first["id"]]
    assert listed[1]["notes"] == "read the methods"
    assert listed[0]["notes"] is None
    assert [s["research_id"] for s in ok(await client.get(SAVED, headers=user.headers, params={"offset": 1}))] == [
        first["id"]
    ]


async def test_saving_twice_is_409_and_an_unknown_paper_404(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    (paper,) = await _papers(client, user.headers, 1)
    ok(await client.post(SAVED, headers=user.headers, json={"research_id": paper["id"]}), 201)

    assert_problem(
        await client.post(SAVED, headers=user.headers, json={"research_id": paper["id"]}), 409, "RESEARCH_ALREADY_SAVED"
    )
    assert_problem(
        await client.post(SAVED, headers=user.headers, json={"research_id": "00000000-0000-0000-0000-000000000001"}),
        404,
        "RESEARCH_PAPER_NOT_FOUND",
    )


async def test_parallel_saves_of_one_paper_keep_one(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    (paper,) = await _papers(client, user.headers, 1)
    clients = [client_for(app, fresh_ip()) for _ in range(6)]
    try:
        responses = await asyncio.gather(
            *(c.post(SAVED, headers=user.headers, json={"research_id": paper["id"]}) for c in clients)
        )
    finally:
        for c in clients:
            await c.aclose()

    assert Counter(r.status_code for r in responses) == {201: 1, 409: 5}
    assert len(ok(await client.get(SAVED, headers=user.headers))) == 1


async def test_notes_over_500_characters_are_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    (paper,) = await _papers(client, user.headers, 1)

    assert_problem(
        await client.post(SAVED, headers=user.headers, json={"research_id": paper["id"], "notes": "n" * 501}), 422
    )
    ok(await client.post(SAVED, headers=user.headers, json={"research_id": paper["id"], "notes": "n" * 500}), 201)


async def test_removing_by_saved_id_is_caller_scoped(app: FastAPI, client: httpx.AsyncClient) -> None:
    owner, stranger = await anonymous_user(app), await anonymous_user(app)
    (paper,) = await _papers(client, owner.headers, 1)
    saved = ok(await client.post(SAVED, headers=owner.headers, json={"research_id": paper["id"]}), 201)

    assert_problem(
        await client.delete(f"{SAVED}/{saved['id']}", headers=stranger.headers), 404, "SAVED_RESEARCH_NOT_FOUND"
    )
    assert len(ok(await client.get(SAVED, headers=owner.headers))) == 1

    assert (await client.delete(f"{SAVED}/{saved['id']}", headers=owner.headers)).status_code == 204
    assert ok(await client.get(SAVED, headers=owner.headers)) == []
    assert_problem(await client.delete(f"{SAVED}/{saved['id']}", headers=owner.headers), 404)


async def test_saved_papers_and_searches_are_exported_and_erased_with_the_account(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    (paper,) = await _papers(client, user.headers, 1)
    ok(await client.post(SAVED, headers=user.headers, json={"research_id": paper["id"], "notes": "my note"}), 201)
    ok(await client.get(SEARCH, headers=user.headers, params={"query": "quasarfasting"}))

    export = ok(await client.get(EXPORT, headers=user.headers))
    research = export["modules"]["research"]
    assert [(s["research_id"], s["notes"]) for s in research["saved_papers"]] == [(paper["id"], "my note")]
    assert research["search_quota"]["searches_today"] == 1
    assert "quasarfasting" not in str(export)  # query text is never kept

    assert (await client.delete(ALL_DATA, headers=user.headers, params={"confirm": "true"})).status_code in (200, 204)
    async with app.state.sessions.reader() as session:
        for table in (SavedResearchRow, SearchQuotaRow):
            left = await session.scalar(
                select(func.count()).select_from(table).where(table.identity_id == uuid.UUID(user.id))
            )
            assert left == 0, table
        assert await session.get(PaperRow, uuid.UUID(paper["id"])) is not None  # papers are shared: kept
