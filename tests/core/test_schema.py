"""Guards on the database schema: the migrations build exactly what the ORM models describe, and
every table that holds data about a person is covered by the export/erasure registry (GDPR)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fastapi import FastAPI
from sqlalchemy import Column, ForeignKey, MetaData, Table, Uuid
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from src.core.gdpr import PersonalData, PersonalDataRegistry
from src.core.migrations import current_revisions, head_revisions
from src.database import Base

IDENTITY_TABLE = "identities"
IDENTITY_COLUMN = "identity_id"


def tables_about_people(tables: Iterable[Table]) -> set[str]:
    """Tables with an `identity_id` column or a foreign key to `identities`."""
    found: set[str] = set()
    for table in tables:
        if table.name == IDENTITY_TABLE:
            found.add(table.name)
            continue
        refers = any(fk.column.table.name == IDENTITY_TABLE for fk in table.foreign_keys)
        if IDENTITY_COLUMN in table.columns or refers:
            found.add(table.name)
    return found


def uncovered(tables: Iterable[Table], registry: PersonalDataRegistry) -> set[str]:
    return tables_about_people(tables) - registry.covered_tables()


async def _reflect(engine: AsyncEngine) -> MetaData:
    def reflect(sync: Connection) -> MetaData:
        reflected = MetaData()
        reflected.reflect(sync)
        return reflected

    async with engine.connect() as conn:
        return await conn.run_sync(reflect)


async def test_migrations_build_exactly_the_orm_schema(engine: AsyncEngine) -> None:
    def differences(sync: Connection) -> list[Any]:
        context = MigrationContext.configure(sync, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async with engine.connect() as conn:
        diff = await conn.run_sync(differences)

    assert diff == [], "run `alembic revision --autogenerate`: the models and the migrations disagree"


async def test_test_database_is_at_the_alembic_head(engine: AsyncEngine, database_url: str) -> None:
    assert await current_revisions(engine) == head_revisions(database_url)


def test_migrations_have_a_single_head(database_url: str) -> None:
    assert len(head_revisions(database_url)) == 1


async def test_every_table_about_a_person_is_in_the_personal_data_registry(app: FastAPI, engine: AsyncEngine) -> None:
    schema = await _reflect(engine)

    missing = uncovered(schema.tables.values(), app.state.resources.personal_data)

    assert missing == set(), f"register these tables in a PersonalData entry of their module: {sorted(missing)}"


async def test_every_orm_table_about_a_person_is_in_the_personal_data_registry(app: FastAPI) -> None:
    missing = uncovered(Base.metadata.tables.values(), app.state.resources.personal_data)

    assert missing == set(), f"register these tables in a PersonalData entry of their module: {sorted(missing)}"


async def test_every_registered_table_exists(app: FastAPI, engine: AsyncEngine) -> None:
    schema = await _reflect(engine)

    unknown = app.state.resources.personal_data.covered_tables() - set(schema.tables)

    assert unknown == set()


def test_guard_flags_a_new_table_with_identity_column_or_foreign_key() -> None:
    """The completeness guard above must fail when a module forgets to register a table."""
    metadata = MetaData()
    Table(IDENTITY_TABLE, metadata, Column("id", Uuid, primary_key=True))
    Table("covered_notes", metadata, Column("id", Uuid, primary_key=True), Column(IDENTITY_COLUMN, Uuid))
    Table("forgotten_notes", metadata, Column("id", Uuid, primary_key=True), Column(IDENTITY_COLUMN, Uuid))
    Table(
        "forgotten_friendships",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("friend_id", Uuid, ForeignKey(f"{IDENTITY_TABLE}.id")),
    )
    Table("catalogue", metadata, Column("id", Uuid, primary_key=True))
    registry = PersonalDataRegistry()
    registry.register(_entry("notes", (IDENTITY_TABLE, "covered_notes")))

    assert uncovered(metadata.tables.values(), registry) == {"forgotten_notes", "forgotten_friendships"}


async def test_identity_is_erased_after_every_other_module(app: FastAPI) -> None:
    entries = app.state.resources.personal_data.entries()

    assert entries[-1].module == "identity"
    assert all(entry.order < entries[-1].order for entry in entries[:-1])


def test_registry_refuses_a_module_registered_twice() -> None:
    registry = PersonalDataRegistry()
    registry.register(_entry("notes", ("notes",)))

    with pytest.raises(ValueError, match="already registered"):
        registry.register(_entry("notes", ("other_notes",)))


def _entry(module: str, tables: tuple[str, ...]) -> PersonalData:
    async def export(_uow: Any, _identity_id: Any) -> list[Any]:
        return []

    async def erase(_uow: Any, _identity_id: Any) -> int:
        return 0

    return PersonalData(module=module, tables=tables, export=export, erase=erase)
