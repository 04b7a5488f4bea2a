"""The embedded SQLite database's writer runs in the event loop's thread: a write lock held by
another process (a script, a second worker) is waited for briefly, then answered with 503."""

from __future__ import annotations

import sqlite3
import time

import httpx
import pytest
from fastapi import FastAPI

from src.database import SQLITE_WRITER_BUSY_SECONDS
from tests.factories import anonymous_user
from tests.http import assert_problem, ok

WEIGH_IN = {"metric_type": "weight_kg", "value": 70.5}


async def test_a_write_lock_held_by_another_process_answers_503_after_a_short_wait(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    engine = app.state.sessions.engine
    if engine.dialect.name != "sqlite":
        pytest.skip("the embedded SQLite database's writer")
    user = await anonymous_user(app)
    other_process = sqlite3.connect(str(engine.url.database), isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        refused = await client.post("/api/v1/metrics", json=WEIGH_IN, headers=user.headers)
        waited = time.monotonic() - started
    finally:
        other_process.execute("ROLLBACK")
        other_process.close()

    assert_problem(refused, 503, "DATABASE_UNAVAILABLE")
    assert SQLITE_WRITER_BUSY_SECONDS * 0.9 <= waited < SQLITE_WRITER_BUSY_SECONDS * 5
    stored = ok(await client.post("/api/v1/metrics", json=WEIGH_IN, headers=user.headers), 201)
    assert stored["value"] == WEIGH_IN["value"]
    history = ok(await client.get("/api/v1/metrics/history", params={"metric_type": "weight_kg"}, headers=user.headers))
    assert len(history) == 1  # the refused write left nothing behind


async def test_the_writer_leaves_checkpoints_to_a_thread_which_copies_the_whole_log(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    sessions = app.state.sessions
    if sessions.engine.dialect.name != "sqlite":
        pytest.skip("the embedded SQLite database's write-ahead log")
    user = await anonymous_user(app)
    for value in range(30):
        ok(await client.post("/api/v1/metrics", json={**WEIGH_IN, "value": 60 + value}, headers=user.headers), 201)
    async with sessions.writer() as session:  # the writer's own connection never checkpoints
        connection = await session.connection()
        assert (await connection.exec_driver_sql("PRAGMA wal_autocheckpoint")).scalar_one() == 0
        await session.rollback()
    assert sessions.checkpoints_wal
    assert await sessions.checkpoint_wal(min_bytes=1 << 40) is None  # a log shorter than asked: left alone

    busy, frames, copied = await sessions.checkpoint_wal(min_bytes=0)

    assert busy == 0
    assert frames > 0
    assert copied == frames  # everything committed is in the database file now
    history = ok(await client.get("/api/v1/metrics/history", params={"metric_type": "weight_kg"}, headers=user.headers))
    assert [entry["value"] for entry in history] == [89.0]  # one instant (a frozen clock): the last value
