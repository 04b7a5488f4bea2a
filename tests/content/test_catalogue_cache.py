"""The browse screens' catalogue lists come from an in-process copy with an ETag."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI
from sqlalchemy import delete

from src.main import MODULES, run_seeders
from src.modules.content.orm import WorkoutCategoryRow


async def _add_category(app: FastAPI, name: str) -> uuid.UUID:
    category_id = uuid.uuid4()
    async with app.state.sessions.writer() as session:
        session.add(WorkoutCategoryRow(id=category_id, name=name, sort_order=99))
        await session.commit()
    return category_id


async def test_workout_list_carries_an_etag_and_answers_304_when_the_client_has_it(client: httpx.AsyncClient) -> None:
    first = await client.get("/api/v1/content/workouts", params={"limit": 5})
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    assert len(first.json()) == 5

    again = await client.get("/api/v1/content/workouts", params={"limit": 5}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag

    stale = await client.get("/api/v1/content/workouts", params={"limit": 5}, headers={"If-None-Match": '"old"'})
    assert stale.status_code == 200
    assert stale.json() == first.json()

    other_page = await client.get("/api/v1/content/workouts", params={"limit": 5, "offset": 5})
    assert other_page.headers["etag"] != etag
    assert {w["id"] for w in other_page.json()}.isdisjoint({w["id"] for w in first.json()})


async def test_filters_are_part_of_the_cached_answer(client: httpx.AsyncClient) -> None:
    everything = (await client.get("/api/v1/content/workouts", params={"limit": 100})).json()
    featured = (await client.get("/api/v1/content/workouts", params={"limit": 100, "is_featured": True})).json()
    assert 0 < len(featured) < len(everything)
    assert all(w["is_featured"] for w in featured)
    assert len((await client.get("/api/v1/content/workouts", params={"limit": 100})).json()) == len(everything)


async def test_seeding_in_the_process_refreshes_the_cached_lists(app: FastAPI, client: httpx.AsyncClient) -> None:
    before = (await client.get("/api/v1/content/categories")).json()
    category_id = await _add_category(app, "Stretching")

    # The copy is served until it ages out or the catalogue is seeded again.
    assert (await client.get("/api/v1/content/categories")).json() == before

    await run_seeders(app.state.sessions, app.state.resources, MODULES)
    after = (await client.get("/api/v1/content/categories")).json()
    assert str(category_id) in {c["id"] for c in after}
    assert len(after) == len(before) + 1

    async with app.state.sessions.writer() as session:
        await session.execute(delete(WorkoutCategoryRow).where(WorkoutCategoryRow.id == category_id))
        await session.commit()
