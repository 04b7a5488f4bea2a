"""Database configuration: declarative base, engine and sessionmakers.

PostgreSQL: requests that may write run in one transaction (READ COMMITTED); read-only requests
(GET, HEAD, OPTIONS) run their statements in autocommit, which saves the BEGIN/COMMIT round
trips on the paths the app polls. A GET that also writes asks for a writing unit of work; a
reader session refuses to flush (`ReaderSession`), so a stray write fails loudly on both databases
instead of being committed by autocommit on PostgreSQL.

One async code base runs on the embedded SQLite database (default, a file under `./data/`) and on
PostgreSQL (asyncpg). The schema is made only by Alembic migrations (see `alembic/`).

SQLite specifics: foreign keys on, WAL journal, a busy timeout, and SQLAlchemy emits `BEGIN`
itself. SQLite has one writer at a time, so the writers of a process share one connection of their
own (a pool of one): concurrent write requests wait their turn in order on that pool, without
SQLite's busy-wait back-off, while read-only requests use the main pool, begin deferred and never
block writers (WAL). That writer connection runs in the event loop's thread (no driver thread), so
a writing transaction holds it only for its own work. Writing transactions begin with
`BEGIN IMMEDIATE`, which takes the write lock up front, so writers of other processes (a worker, a
script) wait on a short busy timeout (`SQLITE_WRITER_BUSY_SECONDS`, then 503) instead of failing
with "database is locked" when a read lock cannot be upgraded.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiosqlite
from sqlalchemy import MetaData, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session

from src.core.lean import DRIVER_READS, AsyncpgReads, DriverReads, SqliteReads, sqlite_read_connection
from src.core.settings import Settings

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_WRITE_OPTION = "ugoki_sqlite_write"
logger = logging.getLogger("ugoki.database")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_file(database: str | None) -> str | None:
    """The file path of a SQLite URL's database; None for an in-memory or URI-named database."""
    if database and database != ":memory:" and not database.startswith("file:"):
        return database
    return None


def _prepare_sqlite_file(url: str) -> None:
    database = _sqlite_file(make_url(url).database)
    if database is not None:
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def create_engine(settings: Settings) -> AsyncEngine:
    url = settings.database_url
    if settings.is_sqlite:
        _prepare_sqlite_file(url)
        engine = create_async_engine(
            url,
            echo=settings.database_echo,
            hide_parameters=not settings.database_echo,
            connect_args={"timeout": 30},
        )
        _install_sqlite_hooks(engine)
        return engine
    return create_async_engine(
        url,
        echo=settings.database_echo,
        hide_parameters=not settings.database_echo,  # health data must not reach logs via errors
        connect_args=postgres_connect_args(url),
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=30,
        # No ping before each checkout (it costs three round trips per request): connections are
        # recycled after 30 minutes, and one that broke meanwhile fails its request with a 503
        # and is replaced.
        pool_recycle=1800,
    )


LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def postgres_connect_args(url: str) -> dict[str, Any]:
    """asyncpg tries SSL first by default (`sslmode=prefer`): one extra round trip and a refusal
    on every new connection to a server on this machine. On loopback, without `ssl`/`sslmode` in
    the URL, connections go without SSL; anywhere else the driver's default stands."""
    parsed = make_url(url)
    if parsed.host in LOOPBACK_HOSTS and not {"ssl", "sslmode"} & set(parsed.query):
        return {"ssl": False}
    return {}


def _install_sqlite_hooks(engine: AsyncEngine, *, busy_timeout_ms: int = 30_000, checkpoints: bool = True) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if not checkpoints:  # the writer's WAL is checkpointed in a thread (SessionFactory.keep_wal_short)
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    @event.listens_for(sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(SQLITE_WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


# How long the writer waits for another process's write lock (a script, a second worker). The
# writer runs in the event loop's thread (below), so this wait holds up the process: kept short, a
# longer wait answers 503 instead.
SQLITE_WRITER_BUSY_SECONDS = 2.0


class _RunNow:
    """Stands in for aiosqlite's queue to its worker thread: runs each call at once, in the
    calling thread, and settles its future."""

    def put_nowait(self, item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:  # handed to the awaiting caller, as aiosqlite does
            if future is not None:
                future.set_exception(exc)
            return
        if future is not None:
            future.set_result(result)


class InlineSqliteConnection(aiosqlite.Connection):
    """aiosqlite's connection, run in the event loop's thread instead of a worker thread.

    The writer's statements are short local file operations; handing each to a thread and back
    costs more CPU than the statement, and lets every other request run between two statements of
    a transaction that holds the process's only write connection. Inline, a writing transaction
    runs from BEGIN to COMMIT without giving way (except where it awaits something else), so the
    write lock is held for as long as the transaction's own work takes."""

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._tx = _RunNow()  # type: ignore[assignment]

    def __await__(self) -> Any:
        return self._connect().__await__()  # no worker thread to start


def _sqlite_writer_engine(engine: AsyncEngine) -> AsyncEngine:
    """The one connection a process writes to its SQLite file with, run in the event loop's thread
    (`InlineSqliteConnection`); waiting writers queue on its pool (first come, first served) for up
    to `pool_timeout` seconds, then answer 503."""
    sync = engine.sync_engine
    path = str(engine.url.database)

    def connect() -> InlineSqliteConnection:
        return InlineSqliteConnection(
            lambda: sqlite3.connect(path, timeout=SQLITE_WRITER_BUSY_SECONDS, check_same_thread=False)
        )

    writer = create_async_engine(
        engine.url,
        echo=sync.echo,
        hide_parameters=sync.hide_parameters,
        async_creator=connect,
        pool_size=1,
        max_overflow=0,
        pool_timeout=60,
        execution_options={SQLITE_WRITE_OPTION: True},
    )
    _install_sqlite_hooks(writer, busy_timeout_ms=int(SQLITE_WRITER_BUSY_SECONDS * 1000), checkpoints=False)
    return writer


# The write-ahead log is copied back into the database file once it holds this much (SQLite's own
# automatic checkpoint: 1 000 pages of 4 KiB).
SQLITE_CHECKPOINT_BYTES = 4 * 1024 * 1024
SQLITE_CHECKPOINT_EVERY_SECONDS = 1.0


def _checkpoint(path: str, min_bytes: int) -> tuple[int, int, int] | None:
    """A PASSIVE checkpoint of the database at `path` on a connection of its own, when its log
    holds `min_bytes` or more: it copies what no reader still needs, never waits for the writer or
    the readers."""
    try:
        if Path(path + "-wal").stat().st_size < min_bytes:
            return None
    except FileNotFoundError:
        return None
    connection = sqlite3.connect(path, timeout=1.0, isolation_level=None)
    try:
        busy, frames, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        connection.close()
    return int(busy), int(frames), int(copied)


class ReadOnlySessionError(RuntimeError):
    """A read-only request's session was asked to write (a bug: such a request must use a writing
    unit of work)."""


class ReaderSession(Session):
    """The session of a read-only request. On PostgreSQL it runs in autocommit, so a flushed row
    would be committed at once and survive even if the request then failed; on SQLite it would be
    rolled back. Either way a read-only request must not write: flushing raises.

    A direct read route's session may carry `DriverReads` (its hot reads on a pooled driver
    connection): before the session takes a connection of its own, that one goes back to the pool,
    so that a request never holds two."""

    def _connection_for_bind(self, engine: Any, execution_options: Any = None, **kw: Any) -> Any:
        reads = self.info.get(DRIVER_READS)
        if reads is not None:
            reads.release_now()
        return super()._connection_for_bind(engine, execution_options, **kw)


@event.listens_for(ReaderSession, "before_flush")
def _refuse_flush(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlySessionError("a read-only session may not write (use a writing unit of work)")


class SessionFactory:
    """Hands out sessions; `writer()` sessions take SQLite's write lock when they begin."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._write_engine: AsyncEngine | None = None
        self._sqlite_reads: sqlite3.Connection | None = None
        options: dict[str, Any] = {"expire_on_commit": False, "autoflush": True}
        if engine.dialect.name == "sqlite":
            self._reader: async_sessionmaker[AsyncSession] = async_sessionmaker(
                bind=engine, sync_session_class=ReaderSession, **options
            )
            self._write_engine = _sqlite_writer_engine(engine)
            self._writer: async_sessionmaker[AsyncSession] = async_sessionmaker(bind=self._write_engine, **options)
            self._snapshot = self._reader  # a deferred transaction reads one snapshot (WAL)
        else:
            # Read-only requests run their statements in autocommit: no BEGIN/COMMIT round trips.
            read_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
            self._reader = async_sessionmaker(bind=read_engine, sync_session_class=ReaderSession, **options)
            self._writer = async_sessionmaker(bind=engine, **options)
            snapshot_engine = engine.execution_options(isolation_level="REPEATABLE READ")
            self._snapshot = async_sessionmaker(bind=snapshot_engine, sync_session_class=ReaderSession, **options)

    def reader(self) -> AsyncSession:
        return self._reader()

    def driver_reads(self) -> DriverReads | None:
        """Hot reads straight on a driver connection, for a reader session: a pooled asyncpg
        connection (PostgreSQL), or the process's read-only connection to the SQLite file. None
        for an in-memory SQLite database."""
        driver = self.engine.dialect.driver
        if driver == "asyncpg":
            return AsyncpgReads(self.engine)
        if driver == "aiosqlite":
            path = _sqlite_file(self.engine.url.database)
            if path is None:
                return None
            if self._sqlite_reads is None:
                self._sqlite_reads = sqlite_read_connection(path)
            return SqliteReads(self.engine, self._sqlite_reads)
        return None

    @property
    def engines(self) -> tuple[AsyncEngine, ...]:
        """Every engine sessions are made from (SQLite's writers have their own)."""
        return (self.engine,) if self._write_engine is None else (self.engine, self._write_engine)

    async def dispose(self) -> None:
        """Close the connections this factory opened itself (SQLite's writer and read-only ones)."""
        if self._write_engine is not None:
            await self._write_engine.dispose()
        if self._sqlite_reads is not None:
            self._sqlite_reads.close()
            self._sqlite_reads = None

    def writer(self) -> AsyncSession:
        return self._writer()

    async def checkpoint_wal(self, *, min_bytes: int = SQLITE_CHECKPOINT_BYTES) -> tuple[int, int, int] | None:
        """Checkpoint the SQLite file's write-ahead log in a worker thread when it holds `min_bytes`
        or more: (busy, frames in the log, frames copied), or None when nothing was done.

        SQLite checkpoints automatically in the transaction whose commit makes the log long enough;
        the writer runs in the event loop's thread, so every request would wait for that copy and
        its fsync (measured: the mix's p99 on SQLite 646 → 134 ms without it). The writer therefore
        never checkpoints (`wal_autocheckpoint=0`) and `keep_wal_short` does it here."""
        if not self.checkpoints_wal:
            return None
        return await asyncio.to_thread(_checkpoint, str(self.engine.url.database), min_bytes)

    async def keep_wal_short(self, every: float = SQLITE_CHECKPOINT_EVERY_SECONDS) -> None:
        """Run `checkpoint_wal` every `every` seconds until cancelled (SQLite only; a no-op loop
        otherwise is not started)."""
        while True:
            await asyncio.sleep(every)
            try:
                await self.checkpoint_wal()
            except sqlite3.Error as exc:  # e.g. the file is locked by a long script: next time
                logger.warning("WAL checkpoint failed: %s", type(exc).__name__)

    @property
    def checkpoints_wal(self) -> bool:
        """Whether this factory's writer leaves its checkpoints to `keep_wal_short`."""
        return self._write_engine is not None and _sqlite_file(self.engine.url.database) is not None

    def snapshot(self) -> AsyncSession:
        """A read-only session whose statements all see one snapshot, in one transaction (long
        reads streamed in pages through a cursor, e.g. the account export)."""
        return self._snapshot()
