"""Test harness: the real app, on a real database (SQLite by default, PostgreSQL with
`TEST_DATABASE_URL=postgresql+asyncpg://...`), migrated by Alembic once per session.

Each test gets a fresh app (its own clock, caches and rate-limit counters) on the shared engine,
and talks to it over HTTP through `httpx.AsyncClient`. Requests commit for real, exactly as in
production, so concurrency tests run on separate connections; after each test every table is
emptied.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.sql.expression import Executable

from alembic import command
from src.core.clock import FrozenClock
from src.core.migrations import alembic_config
from src.core.settings import Settings
from src.database import Base, create_engine
from src.main import MODULES, create_app

DEFAULT_NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
# Files the app writes (stored uploads, share cards) go to a temporary directory, never the checkout.
TEST_DATA_DIR = Path(tempfile.mkdtemp(prefix="ugoki-test-data-"))
TEST_ENCRYPTION_KEY = "tNbbT1aG0t1wZ7ZC3Kq8yq3xqkR3yJm7d0zqk0x7tD8="


def _test_database_url() -> str:
    """SQLite in a fresh temporary file by default; with TEST_DATABASE_URL, that PostgreSQL
    database (under pytest-xdist each worker gets its own copy: `<name>_<worker>`)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if worker:
            base, _, rest = url.rpartition("/")
            name, sep, query = rest.partition("?")
            url = f"{base}/{name}_{worker}{sep}{query}"
        return url
    directory = Path(tempfile.mkdtemp(prefix="ugoki-tests-"))
    return f"sqlite+aiosqlite:///{directory}/test.db"


async def _ensure_postgres_database(url: str) -> None:
    parsed = make_url(url)
    if not re.fullmatch(r"[A-Za-z0-9_]+", parsed.database or ""):
        raise RuntimeError("test database names may hold letters, digits and underscores only")
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            found = text("SELECT 1 FROM pg_database WHERE datname = :name")
            exists = await conn.scalar(found, {"name": parsed.database})
            if not exists:
                await conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    finally:
        await admin.dispose()


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test",
        "database_url": database_url,
        "rate_limit_enabled": True,
        "redis_url": None,
        "outbox_enabled": False,
        "log_level": "WARNING",
        "log_json": False,
        "google_client_ids": [],
        "apple_client_ids": [],
        "cors_origins": [],
        "data_encryption_keys": [TEST_ENCRYPTION_KEY],
        "seed_on_startup": False,  # the catalogues are seeded once per test session
        "data_dir": TEST_DATA_DIR,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type, call-arg]


@pytest.fixture(scope="session")
def database_url() -> str:
    return _test_database_url()


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    if database_url.startswith("postgresql"):
        name = database_url.rsplit("/", 1)[-1].split("?")[0]
        if "test" not in name:
            raise RuntimeError("refusing to reset a PostgreSQL database whose name lacks 'test'")
        await _ensure_postgres_database(database_url)
        admin = create_async_engine(database_url, isolation_level="AUTOCOMMIT")
        async with admin.connect() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await admin.dispose()
    config = alembic_config(database_url)
    # Migrations are part of what is tested: up, all the way down, and up again.
    import anyio

    await anyio.to_thread.run_sync(command.upgrade, config, "head")
    await anyio.to_thread.run_sync(command.downgrade, config, "base")
    await anyio.to_thread.run_sync(command.upgrade, config, "head")
    db = create_engine(make_settings(database_url))
    seeding = create_app(make_settings(database_url, seed_on_startup=True), engine=db)
    async with seeding.router.lifespan_context(seeding):
        pass  # start-up seeded the catalogues
    yield db
    await db.dispose()


REFERENCE_TABLES = frozenset(table for module in MODULES for table in module.reference_tables)
# Counters on catalogue rows that tests move (completions, ratings, saves): reset between tests.
REFERENCE_COUNTERS = {
    "workouts": ("times_completed", "total_rating", "rating_count"),
    "recipes": ("times_saved", "total_rating", "rating_count"),
}


def _cleanup_script(dialect: Dialect) -> list[str]:
    clauses: list[Executable] = [
        table.delete() for table in reversed(Base.metadata.sorted_tables) if table.name not in REFERENCE_TABLES
    ]
    for name, columns in REFERENCE_COUNTERS.items():
        if name in Base.metadata.tables:
            clauses.append(Base.metadata.tables[name].update().values(dict.fromkeys(columns, 0)))
    return [str(clause.compile(dialect=dialect, compile_kwargs={"literal_binds": True})) for clause in clauses]


async def _empty_all_tables(db: AsyncEngine) -> None:
    """Delete every row a test may have written; keep the seeded catalogues (resetting their counters)."""
    statements = _cleanup_script(db.dialect)
    async with db.begin() as conn:
        if db.dialect.name == "postgresql":  # one round trip for the whole script
            raw = await conn.get_raw_connection()
            await raw.driver_connection.execute(";\n".join(statements))  # type: ignore[union-attr]
        else:
            for statement in statements:
                await conn.exec_driver_sql(statement)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(DEFAULT_NOW)


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    """Override in a test module (or with `@pytest.mark.parametrize(..., indirect=True)`)."""
    return {}


@pytest.fixture
async def app(
    engine: AsyncEngine, database_url: str, clock: FrozenClock, settings_overrides: dict[str, object]
) -> AsyncIterator[FastAPI]:
    application = create_app(make_settings(database_url, **settings_overrides), clock=clock, engine=engine)
    try:
        async with application.router.lifespan_context(application):
            yield application
    finally:
        await _empty_all_tables(engine)


def client_for(app: FastAPI, ip: str = "10.0.0.1") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c
