"""The daily search quota: 15 a day in the person's time zone, spent atomically, never by cache
hits, invalid requests or failed upstream calls; 429 with Retry-After when used up."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.conftest import client_for
from tests.factories import anonymous_user, fresh_ip, fresh_token

from .helpers import PREFERENCES, QUOTA, SEARCH, assert_problem, ok, set_searches_used


async def test_quota_starts_full_and_each_search_spends_one(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    fresh = ok(await client.get(QUOTA, headers=user.headers))
    assert fresh == {
        "identity_id": user.id,
        "searches_today": 0,
        "limit": 15,
        "searches_remaining": 15,
        "resets_at": "2026-03-11T00:00:00Z",
    }

    found = ok(await client.get(SEARCH, headers=user.headers, params={"query": "sleep", "limit": 5}))

    assert found["searches_remaining"] == 14
    assert found["cached"] is False
    assert 1 <= len(found["results"]) <= 5
    after = ok(await client.get(QUOTA, headers=user.headers))
    assert (after["searches_today"], after["searches_remaining"]) == (1, 14)


@pytest.mark.parametrize(
    "params",
    [{}, {"query": "a"}, {"query": "x" * 201}, {"topic": "yoga"}, {"query": "sleep", "limit": 0}, {"query": "  "}],
)
async def test_invalid_searches_are_refused_without_spending_quota(
    app: FastAPI, client: httpx.AsyncClient, params: dict[str, object]
) -> None:
    user = await anonymous_user(app)

    response = await client.get(SEARCH, headers=user.headers, params=params)

    assert_problem(response, 422)
    assert ok(await client.get(QUOTA, headers=user.headers))["searches_today"] == 0


async def test_used_up_quota_answers_429_with_retry_after_and_reset_time(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await set_searches_used(app, user.id, 15, date(2026, 3, 10))

    response = await client.get(SEARCH, headers=user.headers, params={"query": "protein"})

    body = assert_problem(response, 429, "RESEARCH_QUOTA_EXHAUSTED")
    assert response.headers["retry-after"] == str(12 * 3600)  # 12:00 UTC until midnight
    assert body["resets_at"] == "2026-03-11T00:00:00+00:00"
    assert body["searches_remaining"] == 0
    assert ok(await client.get(QUOTA, headers=user.headers))["searches_today"] == 15


async def test_quota_day_follows_the_persons_time_zone(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(PREFERENCES, headers=user.headers, json={"timezone": "Asia/Tokyo"}))
    # 12:00 UTC is 21:00 in Tokyo on 10 March: the day ends at 15:00 UTC.
    await set_searches_used(app, user.id, 15, date(2026, 3, 10))
    quota = ok(await client.get(QUOTA, headers=user.headers))
    assert quota["resets_at"] == "2026-03-10T15:00:00Z"
    assert quota["searches_remaining"] == 0

    clock.set(datetime(2026, 3, 10, 15, 0, 1, tzinfo=UTC))
    user = await fresh_token(app, user)

    quota = ok(await client.get(QUOTA, headers=user.headers))
    assert (quota["searches_today"], quota["searches_remaining"]) == (0, 15)
    assert quota["resets_at"] == "2026-03-11T15:00:00Z"
    found = ok(await client.get(SEARCH, headers=user.headers, params={"query": "sleep"}))
    assert found["searches_remaining"] == 14


async def test_twenty_parallel_searches_with_three_left_spend_exactly_three(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await set_searches_used(app, user.id, 12, date(2026, 3, 10))
    clients = [client_for(app, fresh_ip()) for _ in range(20)]
    try:
        responses = await asyncio.gather(
            *(
                c.get(SEARCH, headers=user.headers, params={"query": f"training {i}", "topic": "hiit"})
                for i, c in enumerate(clients)
            )
        )
    finally:
        for c in clients:
            await c.aclose()

    assert Counter(r.status_code for r in responses) == {200: 3, 429: 17}, [r.text for r in responses]
    assert sorted(r.json()["searches_remaining"] for r in responses if r.status_code == 200) == [0, 1, 2]
    quota = ok(await client.get(QUOTA, headers=user.headers))
    assert (quota["searches_today"], quota["searches_remaining"]) == (15, 0)


async def test_quota_is_per_person(app: FastAPI, client: httpx.AsyncClient) -> None:
    spender, other = await anonymous_user(app), await anonymous_user(app)
    await set_searches_used(app, spender.id, 15, date(2026, 3, 10))

    assert ok(await client.get(SEARCH, headers=other.headers, params={"topic": "sleep"}))["searches_remaining"] == 14


async def test_quota_and_search_need_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get(QUOTA)).status_code == 401
    assert (await client.get(SEARCH, params={"query": "sleep"})).status_code == 401
