"""Small persistence helpers shared by modules."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from src.database import Base


async def try_insert(session: AsyncSession, *rows: Base) -> bool:
    """Insert rows inside a savepoint. Returns False (and leaves the transaction usable) when a
    unique constraint says another request got there first; the caller then reads the winner.

    Rows are flushed one by one in the order given (modules link by id, without ORM
    relationships, so the unit of work cannot infer parent-before-child order)."""
    try:
        async with session.begin_nested():
            for row in rows:  # in the given order: parents before children
                session.add(row)
                await session.flush()
    except IntegrityError:
        return False
    return True
