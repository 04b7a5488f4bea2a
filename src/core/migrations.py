"""Alembic from inside the app: migrate to head at start-up (development), or refuse to start
when the schema is behind (production)."""

from __future__ import annotations

import fcntl
from pathlib import Path

import anyio
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

from alembic import command

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(database_url: str) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "alembic"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


def _upgrade_locked(database_url: str, lock_path: Path) -> None:
    # Several workers may start at once: one migrates, the others wait and find nothing to do.
    # (PostgreSQL also takes an advisory lock in env.py.)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            command.upgrade(alembic_config(database_url), "head")
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


async def upgrade_to_head(database_url: str, *, lock_path: Path) -> None:
    # Alembic's env.py runs its own event loop; give it a thread.
    await anyio.to_thread.run_sync(_upgrade_locked, database_url, lock_path)


def head_revisions(database_url: str) -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(database_url)).get_heads())


async def current_revisions(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_heads()))


class SchemaBehind(RuntimeError):
    pass


async def assert_schema_current(engine: AsyncEngine, database_url: str) -> None:
    heads = head_revisions(database_url)
    current = await current_revisions(engine)
    if current != heads:
        raise SchemaBehind(
            f"database schema is at {sorted(current) or 'nothing'}, code expects {sorted(heads)}: "
            "run `uv run alembic upgrade head` before starting"
        )
