"""Shared start-up for the command-line scripts: settings, database (migrated in development,
checked in production) and a unit of work on the real resources."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from fastapi import FastAPI  # noqa: E402

from src.core.settings import get_settings  # noqa: E402
from src.main import create_app  # noqa: E402


@asynccontextmanager
async def running_app() -> AsyncIterator[FastAPI]:
    """The application with its start-up done (migrations, seeders), without serving HTTP."""
    app = create_app(get_settings().model_copy(update={"outbox_enabled": False, "seed_on_startup": True}))
    async with app.router.lifespan_context(app):
        yield app
