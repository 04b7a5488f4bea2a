"""Bounded work: completing a fast and reading the overview cost a fixed number of SQL
statements, whatever the size of the catalogue or the number of achievements unlocked; reads never
write."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, insert

from src.core.clock import FrozenClock
from src.database import Base
from tests.factories import User, admin_user, anonymous_user, fresh_token
from tests.progression.helpers import (
    ACHIEVEMENTS,
    CHECK,
    LEVEL,
    MINE,
    OVERVIEW,
    STREAKS,
    XP_HISTORY,
    close_fast,
    count_rows,
    counting_statements,
    grant_xp,
    log_fast,
    names,
    ok,
    open_fast,
    social,
    unlocked_names,
    utc,
)

# The whole close cascade (journal and its day counts, XP, streak days, achievements, period
# totals, challenge progress, notifications). It does not grow with history; cutting it further is
# performance work.
CLOSE_BOUND = 47
OVERVIEW_BOUND = 5
PROGRESSION_TABLES = ("streaks", "user_levels", "progression_stats", "user_achievements", "xp_transactions")


async def many_unlocks(app: FastAPI, client: httpx.AsyncClient, user: User) -> None:
    """Six achievements that a first fast does not touch: three levels and three social ones."""
    admin = await admin_user(app)
    await grant_xp(client, admin, user, 30_000)
    await social(app, user, utc(3, 10, 12), friends_count=5, challenge_joined=True, challenge_won=True)
    assert len(await unlocked_names(client, user)) == 6


@asynccontextmanager
async def bigger_catalogue(app: FastAPI, extra: int) -> AsyncIterator[None]:
    """More achievements than anyone can reach (as a growing catalogue would bring), for the block."""
    table = Base.metadata.tables["achievements"]
    codes = [f"extra_{uuid.uuid4().hex[:12]}" for _ in range(extra)]
    async with app.state.sessions.writer() as session:
        await session.execute(
            insert(table),
            [
                {
                    "id": uuid.uuid4(),
                    "code": code,
                    "name": f"Extra {n}",
                    "description": "Complete a great many fasts",
                    "achievement_type": "fasting",
                    "metric": "fasts",
                    "requirement_value": 10_000 + n,
                    "xp_reward": 10,
                    "icon": "star",
                    "is_hidden": False,
                    "sort_order": 1000 + n,
                }
                for n, code in enumerate(codes)
            ],
        )
        await session.commit()
    app.state.resources.catalogue.clear()  # as the seeders do when they change the catalogue
    try:
        yield
    finally:
        async with app.state.sessions.writer() as session:
            await session.execute(delete(table).where(table.c.code.in_(codes)))
            await session.commit()
        app.state.resources.catalogue.clear()


async def statements_to_close(app: FastAPI, client: httpx.AsyncClient, user: User, window_id: str) -> int:
    # The session is known (auth costs the same) and the achievement catalogue is cached.
    ok(await client.get(OVERVIEW, headers=user.headers))
    with counting_statements(app) as log:
        closed = await close_fast(client, user, window_id)
    assert names(closed["achievements_unlocked"]) == {"First Fast", "Welcome to UGOKI"}
    return log.count


async def statements_to_read_the_overview(app: FastAPI, client: httpx.AsyncClient, user: User) -> int:
    ok(await client.get(OVERVIEW, headers=user.headers))  # the session is known: auth costs the same
    with counting_statements(app) as log:
        ok(await client.get(OVERVIEW, headers=user.headers))
    assert log.writes() == []
    return log.count


async def test_closing_a_fast_costs_the_same_statements_with_many_unlocks_or_a_bigger_catalogue(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = await anonymous_user(app)
    seasoned = await anonymous_user(app)
    await many_unlocks(app, client, seasoned)
    late = await anonymous_user(app)
    windows = {user.id: await open_fast(client, user) for user in (fresh, seasoned, late)}
    clock.advance(hours=16)
    for user in (fresh, seasoned, late):
        await fresh_token(app, user)

    fresh_count = await statements_to_close(app, client, fresh, windows[fresh.id])
    seasoned_count = await statements_to_close(app, client, seasoned, windows[seasoned.id])
    async with bigger_catalogue(app, 40):
        big_catalogue_count = await statements_to_close(app, client, late, windows[late.id])
    with capsys.disabled():
        print(  # noqa: T201 - the counts belong in the test report
            f"\nSQL statements to close a completed fast: no unlocks {fresh_count}, "
            f"6 unlocks {seasoned_count}, catalogue +40 {big_catalogue_count}"
        )
    assert seasoned_count == fresh_count
    assert big_catalogue_count == fresh_count
    assert fresh_count <= CLOSE_BOUND


async def test_reading_the_overview_costs_the_same_statements_with_many_unlocks_or_a_bigger_catalogue(
    app: FastAPI, client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    fresh = await anonymous_user(app)
    seasoned = await anonymous_user(app)
    await many_unlocks(app, client, seasoned)
    await log_fast(client, seasoned, utc(3, 9, 20), utc(3, 10, 10))

    fresh_count = await statements_to_read_the_overview(app, client, fresh)
    seasoned_count = await statements_to_read_the_overview(app, client, seasoned)
    async with bigger_catalogue(app, 40):
        big_catalogue_count = await statements_to_read_the_overview(app, client, seasoned)
    with capsys.disabled():
        print(  # noqa: T201 - the counts belong in the test report
            f"\nSQL statements to read the overview: no unlocks {fresh_count}, "
            f"8 unlocks {seasoned_count}, catalogue +40 {big_catalogue_count}"
        )
    assert seasoned_count == fresh_count
    assert big_catalogue_count == fresh_count
    assert fresh_count <= OVERVIEW_BOUND


async def test_reads_of_a_new_person_write_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    with counting_statements(app) as log:
        for path in (STREAKS, f"{STREAKS}/fasting", f"{STREAKS}/logging", LEVEL, OVERVIEW, MINE, XP_HISTORY):
            ok(await client.get(path, headers=user.headers))
        ok(await client.get(ACHIEVEMENTS, headers=user.headers, params={"include_hidden": True}))
    assert log.writes() == []
    for table in PROGRESSION_TABLES:
        assert await count_rows(app, table, user.id) == 0, table


async def test_check_with_nothing_reached_records_no_achievement_or_xp(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert ok(await client.post(CHECK, headers=user.headers)) == []
    for table in ("user_achievements", "xp_transactions", "streaks"):
        assert await count_rows(app, table, user.id) == 0, table
