"""A read-only request's session refuses to write. On PostgreSQL such a session runs in
autocommit, so a row it flushed would be committed at once and survive the request failing; on
SQLite it would be rolled back. The guard makes both refuse the flush, and nothing is stored."""

from __future__ import annotations

import contextlib

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from src.core.outbox import OutboxMessage, new_message
from src.database import ReadOnlySessionError
from src.dependencies import UoWDep
from tests.conftest import client_for


async def _outbox_rows(app: FastAPI) -> int:
    async with app.state.sessions.writer() as session:
        return int((await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one())


async def test_a_reader_session_refuses_to_flush_and_nothing_is_stored(app: FastAPI) -> None:
    now = app.state.resources.clock.now()
    async with app.state.sessions.reader() as session:
        session.add(new_message("stray.write", {}, now=now))
        with pytest.raises(ReadOnlySessionError):
            await session.flush()
        await session.rollback()

    assert await _outbox_rows(app) == 0


async def test_a_stray_write_in_a_read_only_request_fails_it_and_leaves_no_row(app: FastAPI) -> None:
    @app.get("/stray-write")
    async def stray_write(uow: UoWDep) -> dict[str, str]:
        uow.enqueue("stray.write", {})
        with contextlib.suppress(ReadOnlySessionError):  # without the guard, PostgreSQL commits it here
            await uow.session.flush()
        raise RuntimeError("the request fails after its stray write")

    async with client_for(app) as c:
        response = await c.get("/stray-write")

    assert response.status_code == 500
    assert await _outbox_rows(app) == 0


async def test_a_reader_session_still_reads(app: FastAPI) -> None:
    async with app.state.sessions.reader() as session:
        assert (await session.execute(select(func.count()).select_from(OutboxMessage))).scalar_one() == 0
