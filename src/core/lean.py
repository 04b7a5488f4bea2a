"""Hot reads: a SELECT built once, compiled once per database, run below the ORM.

The endpoints the app polls (the running fast, the home card, who am I) read a handful of columns
by primary or indexed key. Through the ORM such a read costs more CPU than the database spends on
it: building the statement, the ORM's compile and execute layers, a model per row. A `HotQuery`
is built once (with named `bindparam`s), and each call runs it on the session's own connection:

- on PostgreSQL in a read-only request (autocommit), straight on the asyncpg connection with the
  SQL text compiled once (asyncpg keeps the prepared statement per connection), applying the
  column types' own bind and result conversions;
- in a direct read route (`src/direct.py`), on a driver connection past the Session and
  Connection (`DriverReads`): a pooled asyncpg connection the request checks out for its hot reads,
  or on SQLite the process's read-only connection, used synchronously from the event loop;
- otherwise (SQLite, or inside a writing transaction) through the SQLAlchemy connection, which
  still skips the ORM and reuses the compiled statement from SQLAlchemy's cache (pending changes
  of the session are flushed first, as the ORM's autoflush would).

Statements sent straight to asyncpg are announced to the engine's `before_cursor_execute` and
`after_cursor_execute` listeners (statement counters, tracing) when there are any; no other engine
event sees them.

Rows come back as named tuples (attribute per selected column, by its key), with the same Python
values the ORM would give.
"""

from __future__ import annotations

import os
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.request import pathname2url

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import Select
from sqlalchemy.util import greenlet_spawn

Processor = Callable[[Any], Any] | None
AnySelect = Select[*tuple[Any, ...]]


_REQUIRED = object()


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    defaults: tuple[Any, ...]  # a constant's own value; _REQUIRED for a named parameter
    binds: tuple[Processor, ...]
    results: tuple[Processor, ...]


class HotQuery:
    def __init__(self, build: Callable[[], AnySelect]) -> None:
        # Built on first use: mapped classes must be configured by then.
        self._build = build
        self._statement: AnySelect | None = None
        self._compiled: dict[str, _Compiled] = {}
        self._row: Any = None

    @property
    def statement(self) -> AnySelect:
        if self._statement is None:
            statement = self._build()
            # The names a Row of the same statement would have (ORM attribute names included).
            names = [str(d.get("name") or f"c{i}") for i, d in enumerate(statement.column_descriptions)]
            self._row = namedtuple("HotRow", names, rename=True)  # type: ignore[misc]
            self._statement = statement
        return self._statement

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.statement.compile(dialect=dialect)
        names = tuple(compiled.positiontup or ())
        params = [compiled.binds[name] for name in names]
        if any(p.expanding for p in params):
            raise ValueError("a HotQuery cannot hold an IN list parameter; spell it as OR of equalities")
        defaults = tuple(_REQUIRED if p.required or p.callable is not None else p.value for p in params)
        binds = tuple(compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names)
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in self.statement.selected_columns
        )
        return _Compiled(compiled.string, names, defaults, binds, results)

    def _compiled_for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.driver)
        if compiled is None:
            compiled = self._compiled[dialect.driver] = self._compile(dialect)
        return compiled

    async def all(self, session: AsyncSession, **params: Any) -> Sequence[Any]:
        statement = self.statement
        reads: DriverReads | None = session.info.get(DRIVER_READS)
        if reads is not None and not session.in_transaction():
            # A direct read: the session has no connection of its own (see DriverReads).
            engine = reads.engine.sync_engine
            return await self._fetch(reads, self._compiled_for(engine.dialect), params, engine, None)
        connection = await session.connection()
        dialect = connection.dialect
        options = connection.sync_connection.get_execution_options() if connection.sync_connection else {}
        autocommit = options.get("isolation_level") == "AUTOCOMMIT"
        if dialect.driver == "asyncpg" and autocommit:
            raw = await connection.get_raw_connection()
            sync = connection.sync_connection
            return await self._fetch(_OnAsyncpg(raw.driver_connection), self._compiled_for(dialect), params, sync, sync)
        if session.new or session.dirty or session.deleted:
            await session.flush()  # as the ORM's autoflush would: read what this request wrote
        result = await connection.execute(statement, params)
        make = self._row._make
        return [make(row) for row in result.all()]

    async def _fetch(
        self, source: _Fetching, compiled: _Compiled, params: dict[str, Any], events: Any, connection: Any
    ) -> Sequence[Any]:
        """Run on a driver connection; `events` is the engine or connection whose cursor-execute
        listeners are told (`connection` is what they receive as the connection)."""
        args = [
            value if convert is None else convert(value)
            for value, convert in zip(
                (
                    params[name] if default is _REQUIRED else default
                    for name, default in zip(compiled.names, compiled.defaults, strict=True)
                ),
                compiled.binds,
                strict=True,
            )
        ]
        dispatch = events.dispatch if events is not None else None
        if dispatch is not None and dispatch.before_cursor_execute:  # e.g. statement counters
            # Listeners run as they do under SQLAlchemy: synchronous code inside its greenlet.
            await greenlet_spawn(
                dispatch.before_cursor_execute, connection, None, compiled.sql, tuple(args), None, False
            )
        records = await source.fetch(compiled.sql, args)
        if dispatch is not None and dispatch.after_cursor_execute:
            await greenlet_spawn(
                dispatch.after_cursor_execute, connection, None, compiled.sql, tuple(args), None, False
            )
        make = self._row._make
        results = compiled.results
        if not any(results):
            return [make(record) for record in records]
        return [
            make(value if convert is None else convert(value) for value, convert in zip(record, results, strict=True))
            for record in records
        ]

    async def first(self, session: AsyncSession, **params: Any) -> Any | None:
        rows = await self.all(session, **params)
        return rows[0] if rows else None


class _Fetching(Protocol):
    async def fetch(self, sql: str, args: list[Any]) -> Sequence[Any]: ...


@dataclass(frozen=True, slots=True)
class _OnAsyncpg:
    driver: Any

    async def fetch(self, sql: str, args: list[Any]) -> Sequence[Any]:
        return await self.driver.fetch(sql, *args)  # type: ignore[no-any-return]


DRIVER_READS = "ugoki_driver_reads"


class DriverReads:
    """The `HotQuery` reads of a direct read route (`src/direct.py`), on a driver connection past
    the Session and Connection layers, whose checkout, transaction bookkeeping and close cost
    several times the read itself. Put in `session.info[DRIVER_READS]` of a reader session by
    `unit_of_work_in`; `release` when the request ends.

    A reader session that needs a connection of its own (an ORM query) first calls `release_now`
    (`ReaderSession`), and from then on `HotQuery` uses the session's connection.
    """

    engine: AsyncEngine

    async def fetch(self, sql: str, args: list[Any]) -> Sequence[Any]:
        raise NotImplementedError

    def release_now(self) -> None:
        """Give back what the reads hold (synchronous: inside SQLAlchemy's greenlet)."""

    async def release(self) -> None:
        """Give back what the reads hold, at the end of the request."""


class AsyncpgReads(DriverReads):
    """PostgreSQL: one pooled asyncpg connection, checked out at the first read and held until the
    request ends (or the session takes its own: a request never holds two, which could starve the
    pool)."""

    __slots__ = ("_proxied", "engine")

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._proxied: PoolProxiedConnection | None = None

    async def fetch(self, sql: str, args: list[Any]) -> Sequence[Any]:
        if self._proxied is None:
            self._proxied = await self.engine.raw_connection()
        driver = self._proxied.driver_connection
        try:
            return await driver.fetch(sql, *args)  # type: ignore[no-any-return, union-attr]
        except Exception as exc:
            if driver is not None and driver.is_closed():  # broken: not back to the pool, and a 503
                proxied, self._proxied = self._proxied, None
                if proxied is not None:
                    await greenlet_spawn(proxied.invalidate)
                raise OperationalError(sql, None, exc) from exc
            raise

    def release_now(self) -> None:
        proxied, self._proxied = self._proxied, None
        if proxied is not None:
            proxied.close()

    async def release(self) -> None:
        if self._proxied is not None:
            await greenlet_spawn(self.release_now)


class SqliteReads(DriverReads):
    """The embedded SQLite database: the process's own read-only connection (`PRAGMA query_only`),
    used from the event loop's thread, one statement at a time, in autocommit. An indexed read of
    a local file takes microseconds; handing it to the driver's thread and back costs far more.
    WAL readers never wait for the writer; a read that cannot get its snapshot within the busy
    timeout fails as the database being unavailable (503)."""

    __slots__ = ("connection", "engine")

    def __init__(self, engine: AsyncEngine, connection: sqlite3.Connection) -> None:
        self.engine = engine
        self.connection = connection

    async def fetch(self, sql: str, args: list[Any]) -> Sequence[Any]:
        try:
            return self.connection.execute(sql, args).fetchall()
        except sqlite3.OperationalError as exc:
            raise OperationalError(sql, None, exc) from exc


def sqlite_read_connection(path: str) -> sqlite3.Connection:
    """The read-only connection of `SqliteReads` to the database file at `path` (a file that cannot
    be opened is the database being unavailable)."""
    try:
        # mode=rw: opens the existing file, never creates one (the migrations make it).
        uri = "file:" + pathname2url(os.path.abspath(path)) + "?mode=rw"
        connection = sqlite3.connect(
            uri, uri=True, isolation_level=None, check_same_thread=False, cached_statements=256
        )
        connection.execute("PRAGMA busy_timeout=1000")
        connection.execute("PRAGMA query_only=ON")
    except sqlite3.Error as exc:
        raise OperationalError("connect", None, exc) from exc
    return connection
