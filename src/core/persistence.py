"""Small persistence helpers shared by modules."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from typing import Any, cast
from uuid import UUID

from sqlalchemy import CursorResult, Result, Table, bindparam, inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from src.core.lean import HotWrite
from src.database import Base


def rowcount(result: Result[Any]) -> int:
    """How many rows an INSERT, UPDATE or DELETE touched. `session.execute()` is typed as returning
    a `Result`; for those statements it is a `CursorResult`, which has the count."""
    return int(cast(CursorResult[Any], result).rowcount)


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


def upsert_insert(dialect: str, target: Any) -> Any:
    """An INSERT on `target` (a mapped class or a table) that has the `on_conflict_do_nothing` /
    `on_conflict_do_update` clauses, for `dialect` ("postgresql" or "sqlite")."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(target)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(target)


def session_upsert(session: AsyncSession, target: Any) -> Any:
    """`upsert_insert` for the database `session` talks to."""
    return upsert_insert(session.get_bind().dialect.name, target)


async def insert_ignore(session: AsyncSession, model: type[Base], values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING (SQLite and PostgreSQL). True when this call inserted.

    The race-free first write: concurrent callers all "insert", exactly one row exists afterwards,
    and each caller then reads (and locks) that row."""
    table: Table = model.__table__  # type: ignore[assignment]
    if any(name not in table.c for name in values) or any(
        column.default is not None for column in table.c if column.name not in values
    ):
        # An attribute named unlike its column, or a column left to its Python-side default
        # (which SQLAlchemy's own execution computes): through the ORM.
        statement = session_upsert(session, model).values(**values).on_conflict_do_nothing()
        return rowcount(await session.execute(statement)) == 1
    return await hot_upsert(table, values).execute(session, **values) == 1  # built once per shape


async def lock_or_create(
    session: AsyncSession, model: type[Base], values: dict[str, Any], *, key: str | tuple[str, ...]
) -> Any:
    """The row whose `key` column(s) have the values in `values`, inserted with `values` when missing, locked
    until the transaction ends and loaded into the session (fresh from the database), in one
    statement on both databases: INSERT … ON CONFLICT (key) DO UPDATE SET key = key RETURNING *.
    (The no-op update takes the row lock the way SELECT … FOR UPDATE would; on SQLite writers are
    serialised anyway.) Race-free like `insert_ignore`: concurrent callers get the same row, one
    after the other.

    The statement is built once per shape and run below the ORM (`HotWrite`); the row it returns
    becomes the session's object as a loaded one would (an object the session already holds is
    refreshed with it), so changes to it are flushed as usual."""
    columns = (key,) if isinstance(key, str) else tuple(key)
    table: Table = model.__table__  # type: ignore[assignment]
    shape = (table.name, tuple(sorted(values)), columns)
    hot = _LOCK_OR_CREATE.get(shape)
    if hot is None:  # built once per shape: building it per call cost more than running it

        def build(dialect: str) -> Any:
            insert = upsert_insert(dialect, table).values(
                {name: bindparam(name, type_=table.c[name].type) for name in shape[1]}
            )
            return insert.on_conflict_do_update(
                index_elements=list(columns), set_={columns[0]: insert.excluded[columns[0]]}
            ).returning(*table.c)

        hot = _LOCK_OR_CREATE[shape] = HotWrite(build)
    (row,) = await hot.returning(session, **values)
    return _as_loaded(session, model, row._asdict())


_LOCK_OR_CREATE: dict[tuple[Any, ...], HotWrite] = {}


def _as_loaded(session: AsyncSession, model: type[Base], row: dict[str, Any]) -> Any:
    """The session's object for a row read below the ORM, as if a query had loaded it: the object
    the session holds for that key refreshed with the row's values, else a new persistent one."""
    mapper = inspect(model)
    attributes = {mapper.get_property_by_column(column).key: row[str(column.key)] for column in mapper.columns}
    identity = mapper.identity_key_from_primary_key(tuple(row[str(column.key)] for column in mapper.primary_key))
    held = session.sync_session.identity_map.get(identity)
    if held is not None:
        for name, value in attributes.items():
            set_committed_value(held, name, value)
        return held
    instance = model(**attributes)
    make_transient_to_detached(instance)  # as freshly loaded: no pending change
    session.add(instance)
    return instance


def add_to_counters(
    table: Table, rows: Sequence[dict[str, Any]], *, counter: str
) -> tuple[HotWrite, dict[str, Any]] | None:
    """INSERT … ON CONFLICT (primary key) DO UPDATE SET counter = counter + excluded.counter, and
    its parameters: each row adds its `counter` to the row of the same key, or becomes that row.
    Concurrent additions to one key are all kept (the conflicting insert waits for the other
    transaction and then adds to what it committed). Rows of one key are added up first, and
    written in key order, so two transactions adding to the same keys lock them in the same order.
    None when there are no rows.

    The statement is `hot_upsert`'s for that table and number of rows: built once per shape."""
    keys = [column.name for column in table.primary_key.columns]
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        key = tuple(row[name] for name in keys)
        if key in merged:
            merged[key] = {**merged[key], counter: merged[key][counter] + row[counter]}
        else:
            merged[key] = {name: row[name] for name in (*keys, counter)}
    if not merged:
        return None
    ordered = [merged[key] for key in sorted(merged, key=lambda key: tuple(str(part) for part in key))]
    return hot_upsert(table, [*keys, counter], add=(counter,), rows=len(ordered)), upsert_params(ordered)


_UPSERTS: dict[tuple[Any, ...], HotWrite] = {}
_UPSERT_SHAPES = 256  # shapes kept (tables × columns × rows): a statement of a rarer one is built per call


def hot_upsert(
    table: Table, columns: Collection[str], *, add: Collection[str] = (), keep: Collection[str] = (), rows: int = 1
) -> HotWrite:
    """INSERT of `rows` rows of `columns` … ON CONFLICT (primary key) DO UPDATE, adding the `add`
    columns to the stored values and overwriting the `keep` columns (with neither: ON CONFLICT DO
    NOTHING, whichever unique key it clashes with): built once per shape and database, run below
    the ORM (`HotWrite`). Atomic on both databases, like `add_to_counters`. Its parameters are
    named like the columns for one row, else `<column>_<row index>` (`upsert_params`)."""
    shape = (table.name, tuple(sorted(columns)), tuple(sorted(add)), tuple(sorted(keep)), rows)
    hot = _UPSERTS.get(shape)
    if hot is None:

        def build(dialect: str) -> Any:
            names = shape[1]
            statement = upsert_insert(dialect, table).values(
                {name: bindparam(name, type_=table.c[name].type) for name in names}
                if rows == 1
                else [{name: bindparam(f"{name}_{i}", type_=table.c[name].type) for name in names} for i in range(rows)]
            )
            values: dict[str, Any] = {name: table.c[name] + statement.excluded[name] for name in shape[2]}
            values.update({name: statement.excluded[name] for name in shape[3]})
            if not values:  # nothing to change: a row clashing with any unique key stays as it is
                return statement.on_conflict_do_nothing()
            keys = [column.name for column in table.primary_key.columns]
            return statement.on_conflict_do_update(index_elements=keys, set_=values)

        hot = HotWrite(build)
        if len(_UPSERTS) < _UPSERT_SHAPES:
            _UPSERTS[shape] = hot
    return hot


def upsert_params(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The parameters of `hot_upsert(..., rows=len(rows))` for these rows."""
    if len(rows) == 1:
        return rows[0]
    return {f"{name}_{i}": value for i, row in enumerate(rows) for name, value in row.items()}


async def lock_identity(session: AsyncSession, scope: str, identity_id: UUID) -> None:
    """Serialise one person's writes of one kind until the transaction ends (e.g. checks for
    overlapping fasts). PostgreSQL: a transaction-scoped advisory lock; SQLite: writers are already
    serialised by `BEGIN IMMEDIATE`."""
    await advisory_lock(session, f"{scope}:{identity_id}")


async def advisory_lock(session: AsyncSession, name: str) -> None:
    """A named lock held until the transaction ends (PostgreSQL); SQLite writers are serialised."""
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    key = int.from_bytes(digest, "big", signed=True)
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
