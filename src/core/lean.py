"""Hot statements: built once, compiled once per database, run below the ORM.

The endpoints the app polls (the running fast, the home card, who am I) read a handful of columns
by primary or indexed key, and every logged activity runs the same few writes and checks. Through
the ORM such a statement costs more CPU than the database spends on it: building the statement
(several times the rest), the ORM's compile and execute layers, a model per row. A `HotQuery`
(SELECT) or `HotWrite` (INSERT, UPDATE or DELETE, optionally RETURNING) is built once with named
`bindparam`s, and each call runs it on the session's own connection:

- on PostgreSQL, straight on the asyncpg connection with the SQL text compiled once (asyncpg keeps
  the prepared statement per connection), applying the column types' own bind and result
  conversions: in a read-only request (autocommit) as is; in a writing transaction through
  SQLAlchemy's adapter of the connection, which sends the transaction's BEGIN first if nothing
  has yet, and with driver errors raised as the SQLAlchemy exceptions the ORM would raise;
- in a direct read route (`src/direct.py`), on a driver connection past the Session and
  Connection (`DriverReads`): a pooled asyncpg connection the request checks out for its hot reads,
  or on SQLite the process's read-only connection, used synchronously from the event loop;
- otherwise (SQLite) through the SQLAlchemy connection, which still skips the ORM and reuses the
  compiled statement from SQLAlchemy's cache.

Pending changes of the session are flushed first, as the ORM's autoflush would. Statements sent
straight to asyncpg are announced to the engine's `before_cursor_execute` and
`after_cursor_execute` listeners (statement counters, tracing) when there are any; no other engine
event sees them.

Rows come back as named tuples (attribute per selected or returned column, by its key), with the
same Python values the ORM would give.
"""

from __future__ import annotations

import os
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast
from urllib.request import pathname2url

from sqlalchemy import CursorResult
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
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


def _result_processor(type_: Any, dialect: Dialect) -> Processor:
    try:
        return type_.dialect_impl(dialect).result_processor(dialect, None)  # type: ignore[no-any-return]
    except TypeError:
        # asyncpg's numeric types choose by the type the database sent, which is known only per
        # result: a float8 column (Float) arrives as a float, a numeric one (Numeric) as a Decimal.
        return None


class _Hot:
    """What `HotQuery` and `HotWrite` share: the statement compiled once per database driver, and
    its run on a driver connection."""

    def __init__(self) -> None:
        self._compiled: dict[str, _Compiled] = {}
        self._rows: dict[str, Any] = {}

    def statement_for(self, dialect: Dialect) -> Any:
        raise NotImplementedError

    @staticmethod
    def _result_columns(statement: Any) -> tuple[list[str], Sequence[Any]]:
        raise NotImplementedError

    def _compile(self, dialect: Dialect) -> _Compiled:
        statement = self.statement_for(dialect)
        compiled = statement.compile(dialect=dialect)
        if getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None):
            # Python-side column defaults are computed by SQLAlchemy's execution context, which a
            # driver-level run skips: such a statement must name every value itself.
            raise ValueError(f"{type(self).__name__}: give every column a value (no Python-side defaults)")
        names = tuple(compiled.positiontup or ())
        params = [compiled.binds[name] for name in names]
        if any(p.expanding for p in params):
            raise ValueError(f"a {type(self).__name__} cannot hold an IN list parameter; spell it as OR of equalities")
        defaults = tuple(_REQUIRED if p.required or p.callable is not None else p.value for p in params)
        binds = tuple(compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names)
        row_names, columns = self._result_columns(statement)
        results = tuple(_result_processor(column.type, dialect) for column in columns)
        self._rows[dialect.driver] = namedtuple("HotRow", row_names, rename=True)
        return _Compiled(compiled.string, names, defaults, binds, results)

    def _compiled_for(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.driver)
        if compiled is None:
            compiled = self._compiled[dialect.driver] = self._compile(dialect)
        return compiled

    def _row_for(self, dialect: Dialect) -> Any:
        self._compiled_for(dialect)
        return self._rows[dialect.driver]

    @staticmethod
    def _arguments(compiled: _Compiled, params: dict[str, Any]) -> list[Any]:
        return [
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

    async def _fetch(
        self,
        source: _Fetching,
        dialect: Dialect,
        params: dict[str, Any],
        events: Any,
        connection: Any,
        *,
        rows: bool = True,
    ) -> Any:
        """Run on a driver connection; `events` is the engine or connection whose cursor-execute
        listeners are told (`connection` is what they receive as the connection). The rows, or
        with `rows=False` the number of rows the statement touched."""
        compiled = self._compiled_for(dialect)
        args = self._arguments(compiled, params)
        dispatch = events.dispatch if events is not None else None
        if dispatch is not None and dispatch.before_cursor_execute:  # e.g. statement counters
            # Listeners run as they do under SQLAlchemy: synchronous code inside its greenlet.
            await greenlet_spawn(
                dispatch.before_cursor_execute, connection, None, compiled.sql, tuple(args), None, False
            )
        if rows:
            records = await source.fetch(compiled.sql, args)
        else:
            touched = await source.execute(compiled.sql, args)
        if dispatch is not None and dispatch.after_cursor_execute:
            await greenlet_spawn(
                dispatch.after_cursor_execute, connection, None, compiled.sql, tuple(args), None, False
            )
        if not rows:
            return touched
        make = self._rows[dialect.driver]._make
        results = compiled.results
        if not any(results):
            return [make(record) for record in records]
        return [
            make(value if convert is None else convert(value) for value, convert in zip(record, results, strict=True))
            for record in records
        ]

    async def _run(self, session: AsyncSession, params: dict[str, Any], *, rows: bool) -> Any:
        """In the session's transaction (pending ORM changes flushed first, as autoflush would)."""
        if session.new or session.dirty or session.deleted:
            await session.flush()
        connection = await session.connection()
        dialect = connection.dialect
        if dialect.driver == "asyncpg":
            source, sync = await _on_asyncpg(connection)
            return await self._fetch(source, dialect, params, sync, sync, rows=rows)
        self._compiled_for(dialect)  # the same checks as on a driver connection
        result = await connection.execute(self.statement_for(dialect), params)
        if not rows:
            return int(cast(CursorResult[Any], result).rowcount)
        make = self._row_for(dialect)._make
        return [make(row) for row in result.all()]


class HotQuery(_Hot):
    """A SELECT built once (by `build`, on first use), run below the ORM (see the module's text)."""

    def __init__(self, build: Callable[[], AnySelect]) -> None:
        super().__init__()
        # Built on first use: mapped classes must be configured by then.
        self._build = build
        self._statement: AnySelect | None = None

    @property
    def statement(self) -> AnySelect:
        if self._statement is None:
            self._statement = self._build()
        return self._statement

    def statement_for(self, dialect: Dialect) -> AnySelect:
        return self.statement

    @staticmethod
    def _result_columns(statement: Any) -> tuple[list[str], Sequence[Any]]:
        # The names a Row of the same statement would have (ORM attribute names included).
        names = [str(d.get("name") or f"c{i}") for i, d in enumerate(statement.column_descriptions)]
        return names, list(statement.selected_columns)

    async def all(self, session: AsyncSession, **params: Any) -> Sequence[Any]:
        reads: DriverReads | None = session.info.get(DRIVER_READS)
        if reads is not None and not session.in_transaction():
            # A direct read: the session has no connection of its own (see DriverReads).
            engine = reads.engine.sync_engine
            return await self._fetch(reads, engine.dialect, params, engine, None)  # type: ignore[no-any-return]
        return await self._run(session, params, rows=True)  # type: ignore[no-any-return]

    async def first(self, session: AsyncSession, **params: Any) -> Any | None:
        rows = await self.all(session, **params)
        return rows[0] if rows else None


class HotWrite(_Hot):
    """An INSERT, UPDATE or DELETE (with or without RETURNING of columns) built once per database
    by `build(dialect_name)` (upserts are spelled per database), with named `bindparam`s for what
    varies, and run in the session's writing transaction below the ORM: on PostgreSQL straight on
    the transaction's asyncpg connection, elsewhere through the SQLAlchemy connection with the
    compiled statement from its cache. Building and compiling such a statement per call cost
    several times running it.

    Like a Core statement on a table, it does not update objects the session already holds; every
    column the statement writes must be given (no Python-side defaults)."""

    def __init__(self, build: Callable[[str], Any]) -> None:
        super().__init__()
        self._build = build
        self._statements: dict[str, Any] = {}

    def statement_for(self, dialect: Dialect) -> Any:
        statement = self._statements.get(dialect.name)
        if statement is None:
            statement = self._statements[dialect.name] = self._build(dialect.name)
        return statement

    @staticmethod
    def _result_columns(statement: Any) -> tuple[list[str], Sequence[Any]]:
        columns = list(statement.exported_columns)
        return [str(column.key) for column in columns], columns

    async def execute(self, session: AsyncSession, **params: Any) -> int:
        """Run it; the number of rows it touched."""
        return await self._run(session, params, rows=False)  # type: ignore[no-any-return]

    async def returning(self, session: AsyncSession, **params: Any) -> Sequence[Any]:
        """Run it; the rows of its RETURNING clause (named tuples)."""
        return await self._run(session, params, rows=True)  # type: ignore[no-any-return]

    def execute_sync(self, connection: Connection, **params: Any) -> int:
        """Run it on a synchronous connection (inside SQLAlchemy's greenlet, e.g. a session event)
        as the driver's own SQL, past the compile-cache lookup; the number of rows it touched."""
        dialect = connection.dialect
        compiled = self._compiled_for(dialect)
        result = connection.exec_driver_sql(compiled.sql, tuple(self._arguments(compiled, params)))
        return int(result.rowcount)


class _Fetching(Protocol):
    async def fetch(self, sql: str, args: list[Any]) -> Sequence[Any]: ...

    async def execute(self, sql: str, args: list[Any]) -> int: ...


@dataclass(frozen=True, slots=True)
class _OnAsyncpg:
    """The asyncpg connection of a session in autocommit (a read-only request)."""

    driver: Any

    async def fetch(self, sql: str, args: list[Any]) -> Sequence[Any]:
        return await self.driver.fetch(sql, *args)  # type: ignore[no-any-return]

    async def execute(self, sql: str, args: list[Any]) -> int:
        return _affected(await self.driver.execute(sql, *args))


@dataclass(frozen=True, slots=True)
class _InAsyncpgTransaction:
    """The asyncpg connection of a session in a writing transaction, through SQLAlchemy's adapter
    of it: the adapter's BEGIN is sent first if the transaction has not sent anything yet (so the
    statement is part of the request's transaction, committed or rolled back with it), statements
    take the adapter's lock as its own cursor does, and a driver error reaches the caller as the
    SQLAlchemy exception the same statement would raise through the ORM (IntegrityError,
    OperationalError, …)."""

    adapted: Any  # sqlalchemy.dialects.postgresql.asyncpg.AsyncAdapt_asyncpg_connection
    dialect: Dialect

    async def fetch(self, sql: str, args: list[Any]) -> Sequence[Any]:
        return await self._run(self.adapted._connection.fetch, sql, args)  # type: ignore[no-any-return]

    async def execute(self, sql: str, args: list[Any]) -> int:
        return _affected(await self._run(self.adapted._connection.execute, sql, args))

    async def _run(self, call: Callable[..., Any], sql: str, args: list[Any]) -> Any:
        adapted = self.adapted
        async with adapted._execute_mutex:
            try:
                if adapted._transaction is None:
                    await adapted._start_transaction()
                return await call(sql, *args)
            except DBAPIError:
                raise
            except Exception as error:
                try:
                    adapted._handle_exception(error)  # raises the DB-API error of `error`
                except Exception as dbapi_error:
                    raise DBAPIError.instance(
                        sql, tuple(args), dbapi_error, self.dialect.loaded_dbapi.Error, dialect=self.dialect
                    ) from error
                raise


def _affected(status: str) -> int:
    """Rows touched, from a command status such as `INSERT 0 1` or `UPDATE 3`."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


async def _on_asyncpg(connection: AsyncConnection) -> tuple[_OnAsyncpg | _InAsyncpgTransaction, Any]:
    """The driver-level source of a session's asyncpg connection, and the connection whose
    cursor-execute listeners hear of its statements."""
    sync = connection.sync_connection
    options = sync.get_execution_options() if sync is not None else {}
    raw = await connection.get_raw_connection()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return _OnAsyncpg(raw.driver_connection), sync
    return _InAsyncpgTransaction(raw.dbapi_connection, connection.dialect), sync


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

    async def execute(self, sql: str, args: list[Any]) -> int:
        raise TypeError("a direct read route does not write")

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
