"""Helpers that reach behind the API, shared by every test package (each package's helpers
re-export what it uses): a unit of work of one's own, row counts, the SQL statements sent, and
ISO text of an instant."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event, func, select

from src.core.uow import UnitOfWork
from src.database import Base


def iso(value: datetime) -> str:
    return value.isoformat()


async def in_unit_of_work[T](app: FastAPI, work: Callable[[UnitOfWork], Awaitable[T]]) -> T:
    """Run `work` in its own committed unit of work, as another module's request would."""
    async with app.state.sessions.writer() as session:
        uow = UnitOfWork(session=session, resources=app.state.resources)
        result = await work(uow)
        await session.commit()
    return result


async def count_rows(app: FastAPI, table: str, identity_id: str | uuid.UUID | None = None) -> int:
    """Rows of `table` (of one identity, if given), read straight from the database."""
    model = Base.metadata.tables[table]
    query = select(func.count()).select_from(model)
    if identity_id is not None:
        query = query.where(model.c.identity_id == uuid.UUID(str(identity_id)))
    async with app.state.sessions.reader() as session:
        return int((await session.execute(query)).scalar_one())


@dataclass
class StatementLog:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def touching(self, table: str) -> list[str]:
        return [s for s in self.statements if f" {table}" in s or f'"{table}"' in s]

    def writes(self) -> list[str]:
        return [s for s in self.statements if s.lstrip().split(" ", 1)[0].upper() in {"INSERT", "UPDATE", "DELETE"}]


@contextmanager
def counting_statements(app: FastAPI) -> Iterator[StatementLog]:
    """Record every SQL statement the app's engine sends while the block runs."""
    engines = [engine.sync_engine for engine in app.state.sessions.engines]
    log = StatementLog()

    def on_execute(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        log.statements.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", on_execute)
    try:
        yield log
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", on_execute)
