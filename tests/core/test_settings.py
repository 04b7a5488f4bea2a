"""Settings and start-up guards: production and staging refuse unsafe configuration; instants are
always aware; the SQLite engine enforces foreign keys; a schema behind the code stops start-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy import select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from src.core.clock import FrozenClock
from src.core.migrations import SchemaBehind, assert_schema_current, upgrade_to_head
from src.core.outbox import OutboxMessage
from src.core.settings import DEV_HASH_KEY, DEV_JWT_SECRET, Settings
from src.core.types import UTCDateTime, ensure_utc
from src.core.uow import UnitOfWork
from src.database import create_engine
from src.main import create_app
from tests.conftest import client_for, make_settings

STRONG_SECRET = "s3cr3t-" + "x" * 40
STRONG_KEY = "k3y-" + "y" * 40
FERNET_KEY = Fernet.generate_key().decode()


def production(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "production",
        "jwt_secret": STRONG_SECRET,
        "identifier_hash_key": STRONG_KEY,
        "data_encryption_keys": [FERNET_KEY],
        "cors_origins": ["https://app.example"],
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


# Production guard ------------------------------------------------------------------------------


def test_production_with_proper_secrets_and_origins_is_accepted() -> None:
    settings = production()

    assert settings.is_production_like
    assert not settings.should_migrate_on_startup
    assert not settings.docs_enabled


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_default_jwt_secret_is_refused(environment: str) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        production(environment=environment, jwt_secret=DEV_JWT_SECRET)


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_short_jwt_secret_is_refused(environment: str) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        production(environment=environment, jwt_secret="x" * 31)


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_default_identifier_hash_key_is_refused(environment: str) -> None:
    with pytest.raises(ValidationError, match="IDENTIFIER_HASH_KEY"):
        production(environment=environment, identifier_hash_key=DEV_HASH_KEY)


@pytest.mark.parametrize("environment", ["production", "staging"])
def test_missing_data_encryption_key_is_refused(environment: str) -> None:
    with pytest.raises(ValidationError, match="DATA_ENCRYPTION_KEYS"):
        production(environment=environment, data_encryption_keys=[])


def test_malformed_data_encryption_key_stops_the_app_from_being_built() -> None:
    with pytest.raises(ValueError, match="Fernet key"):
        create_app(production(data_encryption_keys=["not-a-fernet-key"]))


@pytest.mark.parametrize("origins", [[], ["*"], ["https://app.example", "*"]])
def test_missing_or_wildcard_cors_origins_are_refused_in_production(origins: list[str]) -> None:
    with pytest.raises(ValidationError, match="CORS_ORIGINS"):
        production(cors_origins=origins)


def test_staging_with_defaults_is_refused() -> None:
    with pytest.raises(ValidationError, match="refusing to start in staging"):
        Settings(_env_file=None, environment="staging")


def test_production_with_every_default_names_every_problem() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, environment="production")

    message = str(caught.value)
    assert "JWT_SECRET" in message
    assert "IDENTIFIER_HASH_KEY" in message
    assert "DATA_ENCRYPTION_KEYS" in message
    assert "CORS_ORIGINS" in message


def test_development_starts_with_no_configuration() -> None:
    settings = Settings(_env_file=None)

    assert settings.environment == "development"
    assert settings.should_migrate_on_startup
    assert settings.docs_enabled


def test_production_never_migrates_on_startup_even_when_asked() -> None:
    assert not production(migrate_on_startup=True).should_migrate_on_startup


def test_comma_separated_lists_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORS_ORIGINS", "https://app.example, https://admin.example")
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.1,10.0.0.2")

    settings = Settings(_env_file=None)

    assert settings.cors_origins == ["https://app.example", "https://admin.example"]
    assert settings.trusted_proxies == ["10.0.0.1", "10.0.0.2"]


def test_bad_default_rate_limit_stops_the_app_from_being_built(database_url: str) -> None:
    with pytest.raises(ValueError, match="bad rate limit"):
        create_app(make_settings(database_url, rate_limit_default="plenty"))


async def test_production_app_does_not_serve_api_docs(engine: AsyncEngine, clock: FrozenClock) -> None:
    settings = production(database_url=str(engine.url.render_as_string(hide_password=False)), outbox_enabled=False)
    application = create_app(settings, clock=clock, engine=engine)
    async with application.router.lifespan_context(application), client_for(application) as c:
        statuses = [(await c.get(path)).status_code for path in ("/docs", "/redoc", "/openapi.json")]
        health = await c.get("/health")

    assert statuses == [404, 404, 404]
    assert health.status_code == 200


async def test_development_app_serves_api_docs(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")

    assert response.status_code == 200
    assert response.json()["info"]["title"] == "UGOKI API"


async def test_openapi_tells_clients_the_rate_limit_of_a_limited_route(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()

    authenticate = spec["paths"]["/api/v1/identity/authenticate"]["post"]

    assert authenticate["x-rate-limit"] == {"preset": "AUTH", "limits": "5/minute;20/hour", "key": "ip"}


# Time ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "postgresql"])  # type: ignore[no-untyped-call]
def test_naive_datetime_is_refused_by_utc_column(dialect: Dialect) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        UTCDateTime().process_bind_param(datetime(2026, 3, 10, 12, 0), dialect)


async def test_naive_datetime_cannot_be_written(app: FastAPI) -> None:
    async with app.state.sessions.writer() as session:
        session.add(
            OutboxMessage(
                topic="naive", payload={}, created_at=datetime(2026, 3, 10, 12, 0), available_at=datetime(2026, 3, 10)
            )
        )
        with pytest.raises(StatementError, match="naive datetime"):
            await session.flush()
        await session.rollback()


async def test_instant_in_another_zone_is_read_back_as_the_same_utc_instant(app: FastAPI) -> None:
    tokyo = timezone(timedelta(hours=9))
    written = datetime(2026, 3, 11, 6, 30, tzinfo=tokyo)
    async with app.state.sessions.writer() as session:
        UnitOfWork(session=session, resources=app.state.resources).enqueue("tz", {}, available_at=written)
        await session.commit()

    async with app.state.sessions.reader() as session:
        read = (await session.execute(select(OutboxMessage.available_at))).scalar_one()

    assert read == written
    assert read.utcoffset() == timedelta(0)
    assert read.hour == 21


def test_incoming_instant_without_offset_is_taken_as_utc() -> None:
    assert ensure_utc(datetime(2026, 3, 10, 8, 0)) == datetime(2026, 3, 10, 8, 0, tzinfo=UTC)


# SQLite engine ---------------------------------------------------------------------------------


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncEngine:
    return create_engine(make_settings(f"sqlite+aiosqlite:///{tmp_path}/pragmas.db"))


async def test_sqlite_engine_enforces_foreign_keys_and_uses_wal(sqlite_engine: AsyncEngine) -> None:
    try:
        async with sqlite_engine.connect() as conn:
            foreign_keys = (await conn.execute(text("PRAGMA foreign_keys"))).scalar_one()
            journal = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
    finally:
        await sqlite_engine.dispose()

    assert foreign_keys == 1
    assert journal == "wal"


async def test_sqlite_engine_rejects_a_row_pointing_nowhere(sqlite_engine: AsyncEngine) -> None:
    try:
        async with sqlite_engine.begin() as conn:
            await conn.execute(text("CREATE TABLE parents (id INTEGER PRIMARY KEY)"))
            await conn.execute(
                text("CREATE TABLE children (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents(id))")
            )
        with pytest.raises(IntegrityError):
            async with sqlite_engine.begin() as conn:
                await conn.execute(text("INSERT INTO children (id, parent_id) VALUES (1, 42)"))
    finally:
        await sqlite_engine.dispose()


async def test_sqlite_engine_creates_the_database_directory(tmp_path: Path) -> None:
    engine = create_engine(make_settings(f"sqlite+aiosqlite:///{tmp_path}/nested/dir/ugoki.db"))
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()

    assert (tmp_path / "nested" / "dir" / "ugoki.db").exists()


# Schema version at start-up ----------------------------------------------------------------------


async def test_schema_check_raises_on_an_empty_database(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/empty.db"
    engine = create_engine(make_settings(url))
    try:
        with pytest.raises(SchemaBehind, match="alembic upgrade head"):
            await assert_schema_current(engine, url)
    finally:
        await engine.dispose()


async def test_schema_check_passes_after_upgrading_to_head(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/migrated.db"
    await upgrade_to_head(url, lock_path=tmp_path / ".migrate.lock")
    engine = create_engine(make_settings(url))
    try:
        await assert_schema_current(engine, url)
    finally:
        await engine.dispose()


async def test_production_app_refuses_to_start_on_a_schema_behind_the_code(tmp_path: Path) -> None:
    settings = production(database_url=f"sqlite+aiosqlite:///{tmp_path}/prod.db", data_dir=tmp_path)
    application = create_app(settings)

    with pytest.raises(SchemaBehind):
        async with application.router.lifespan_context(application):
            pass


async def test_development_app_migrates_an_empty_database_on_start(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/dev.db"
    settings = make_settings(url, environment="development", data_dir=tmp_path)
    application = create_app(settings)

    async with application.router.lifespan_context(application), client_for(application) as c:
        ready = await c.get("/health/ready")
        await assert_schema_current(application.state.sessions.engine, url)

    assert ready.status_code == 200


def test_loopback_postgres_connects_without_ssl_negotiation_unless_asked() -> None:
    from src.database import postgres_connect_args

    assert postgres_connect_args("postgresql+asyncpg://u@127.0.0.1:5432/db") == {"ssl": False}
    assert postgres_connect_args("postgresql+asyncpg://u@localhost/db") == {"ssl": False}
    assert postgres_connect_args("postgresql+asyncpg://u@127.0.0.1/db?ssl=require") == {}
    assert postgres_connect_args("postgresql+asyncpg://u@db.internal/db") == {}
