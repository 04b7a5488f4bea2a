"""Progression under concurrent requests: an activity is credited once, and a person's XP total
stays equal to the ledger when two activities land at the same moment."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.conftest import client_for
from tests.factories import anonymous_user, fresh_token
from tests.progression.helpers import (
    STREAKS,
    WINDOWS,
    ledger,
    ledger_amounts,
    level,
    log_weight,
    ok,
    open_fast,
    unlocked_names,
)


async def test_five_parallel_closes_of_one_fast_credit_it_once(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    window_id = await open_fast(client, user)
    clock.advance(hours=16)
    await fresh_token(app, user)

    async def close() -> httpx.Response:
        async with client_for(app) as c:
            return await c.post(f"{WINDOWS}/{window_id}/close", headers=user.headers, json={"end_state": "completed"})

    responses = await asyncio.gather(*(close() for _ in range(5)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 409, 409, 409, 409], [r.text for r in responses]
    assert await ledger_amounts(client, user, "fast_completed") == [50]
    rows = await ledger(client, user)
    assert sorted(r["description"] for r in rows if r["transaction_type"] == "achievement_unlocked") == [
        "First Fast",
        "Welcome to UGOKI",
    ]
    assert (await level(client, user))["total_xp_earned"] == sum(r["amount"] for r in rows) == 125


async def test_a_fast_close_and_a_weigh_in_at_once_are_both_counted(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    window_id = await open_fast(client, user)
    clock.advance(hours=18)
    await fresh_token(app, user)

    async def close() -> httpx.Response:
        async with client_for(app) as c:
            return await c.post(f"{WINDOWS}/{window_id}/close", headers=user.headers, json={"end_state": "completed"})

    closed, _ = await asyncio.gather(close(), log_weight(app, user, clock.now()))
    assert closed.status_code == 200, closed.text
    assert await ledger_amounts(client, user, "fast_completed") == [75]
    assert await ledger_amounts(client, user, "weight_logged") == [10]
    # Welcome to UGOKI goes to whichever came first, and only once.
    assert await unlocked_names(client, user) == {"First Fast", "First Weigh-In", "Welcome to UGOKI"}
    rows = await ledger(client, user)
    total = (await level(client, user))["total_xp_earned"]
    assert total == sum(r["amount"] for r in rows) == 75 + 10 + 25 + 25 + 50


async def test_parallel_first_reads_of_streaks_all_succeed(app: FastAPI) -> None:
    user = await anonymous_user(app)

    async def read() -> httpx.Response:
        async with client_for(app) as c:
            return await c.get(STREAKS, headers=user.headers)

    responses = await asyncio.gather(*(read() for _ in range(5)))
    assert [r.status_code for r in responses] == [200] * 5
    assert all(ok(r) == ok(responses[0]) for r in responses)
