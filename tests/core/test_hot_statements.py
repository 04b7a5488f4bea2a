"""`HotQuery` and `HotWrite` inside a writing transaction: built once, run below the ORM (on
PostgreSQL straight on the transaction's driver connection), and still part of the transaction —
committed or rolled back with it, reading what the session wrote before, failing with the same
SQLAlchemy errors as the ORM would."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from src.core.lean import HotQuery, HotWrite
from src.core.outbox import OutboxMessage, new_message
from src.core.persistence import hot_upsert
from src.database import Base
from tests.support import counting_statements

OUTBOX: Table = OutboxMessage.__table__  # type: ignore[assignment]
COUNTS_TABLE = Base.metadata.tables["activity_event_counts"]  # a table keyed by several columns


def _insert(_dialect: str) -> Any:
    return insert(OUTBOX).values({c.name: bindparam(c.name, type_=c.type) for c in OUTBOX.c}).returning(*OUTBOX.c)


_INSERT = HotWrite(_insert)
_BUMP = HotWrite(
    lambda _dialect: (
        update(OUTBOX).where(OUTBOX.c.topic == bindparam("of_topic")).values(attempts=OUTBOX.c.attempts + 1)
    )
)
_BY_TOPIC = HotQuery(
    lambda: select(OutboxMessage.id, OutboxMessage.payload).where(OutboxMessage.topic == bindparam("t"))
)


def _values(app: FastAPI, topic: str, **overrides: Any) -> dict[str, Any]:
    now = app.state.resources.clock.now()
    values: dict[str, Any] = {c.name: None for c in OUTBOX.c}
    values.update(
        id=uuid.uuid4(),
        topic=topic,
        payload={"kg": 71.5, "note": "ü"},
        identity_id=uuid.uuid4(),
        created_at=now,
        available_at=now + timedelta(hours=1),
        attempts=0,
    )
    values.update(overrides)
    return values


async def _count(app: FastAPI, topic: str) -> int:
    async with app.state.sessions.reader() as session:
        query = select(func.count()).select_from(OUTBOX).where(OUTBOX.c.topic == topic)
        return int((await session.execute(query)).scalar_one())


async def test_a_hot_insert_returns_the_row_as_the_orm_would_and_commits_with_the_transaction(app: FastAPI) -> None:
    values = _values(app, "hot.commit")
    with counting_statements(app) as log:
        async with app.state.sessions.writer() as session:
            rows = await _INSERT.returning(session, **values)
            await session.commit()

    (row,) = rows
    assert row.id == values["id"]
    assert row.payload == {"kg": 71.5, "note": "ü"}  # JSON decoded
    assert row.available_at == values["available_at"]
    assert row.available_at.utcoffset() == timedelta(0)  # timezone-aware UTC
    assert len(log.touching("outbox_messages")) == 1  # statement counters hear of it
    assert await _count(app, "hot.commit") == 1


async def test_a_hot_write_that_opens_the_transaction_is_rolled_back_with_it(app: FastAPI) -> None:
    async with app.state.sessions.writer() as session:
        await _INSERT.returning(session, **_values(app, "hot.rollback"))  # the transaction's first statement
        await _INSERT.returning(session, **_values(app, "hot.rollback"))
        await session.rollback()

    assert await _count(app, "hot.rollback") == 0


async def test_a_hot_write_counts_the_rows_it_touched(app: FastAPI) -> None:
    async with app.state.sessions.writer() as session:
        for _ in range(2):
            await _INSERT.returning(session, **_values(app, "hot.bump"))
        assert await _BUMP.execute(session, of_topic="hot.bump") == 2
        assert await _BUMP.execute(session, of_topic="hot.nothing") == 0
        await session.commit()

    async with app.state.sessions.reader() as session:
        attempts = (await session.execute(select(OUTBOX.c.attempts).where(OUTBOX.c.topic == "hot.bump"))).scalars()
        assert list(attempts) == [1, 1]


async def test_a_hot_read_sees_what_the_session_added_before_it(app: FastAPI) -> None:
    now = app.state.resources.clock.now()
    async with app.state.sessions.writer() as session:
        session.add(new_message("hot.pending", {"n": 1}, now=now))  # not flushed yet
        rows = await _BY_TOPIC.all(session, t="hot.pending")
        await session.rollback()

    assert [row.payload for row in rows] == [{"n": 1}]


async def test_a_constraint_refusing_a_hot_write_raises_the_orms_error_and_stores_nothing(app: FastAPI) -> None:
    values = _values(app, "hot.duplicate")
    async with app.state.sessions.writer() as session:
        await _INSERT.returning(session, **values)
        with pytest.raises(IntegrityError):
            await _INSERT.returning(session, **{**values, "topic": "hot.duplicate.again"})  # the same id
        await session.rollback()

    assert await _count(app, "hot.duplicate") == 0
    assert await _count(app, "hot.duplicate.again") == 0


async def test_a_hot_write_must_name_every_value_a_python_default_would_give(app: FastAPI) -> None:
    # `id` has a Python-side default (uuid4), which only SQLAlchemy's own execution computes.
    missing_id = HotWrite(lambda _dialect: insert(OUTBOX).values(topic=bindparam("topic")))
    async with app.state.sessions.writer() as session:
        with pytest.raises(ValueError, match="no Python-side defaults"):
            await missing_id.execute(session, topic="hot.default")
        await session.rollback()


async def test_hot_upsert_adds_to_the_stored_row(app: FastAPI) -> None:
    key = {
        "identity_id": uuid.uuid4(),
        "period": "day",
        "period_start": app.state.resources.clock.now().date(),
        "category": "body",
        "event_type": "weight_logged",
    }
    adding = hot_upsert(COUNTS_TABLE, [*key, "events"], add=("events",))
    async with app.state.sessions.writer() as session:
        await adding.execute(session, **key, events=2)
        await adding.execute(session, **key, events=3)
        await session.commit()

    async with app.state.sessions.reader() as session:
        query = select(COUNTS_TABLE.c.events).where(COUNTS_TABLE.c.identity_id == key["identity_id"])
        assert (await session.execute(query)).scalar_one() == 5
