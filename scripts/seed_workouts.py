"""Seed the catalogues (idempotent): runs the database migrations in development, then every
module's seeder — the same ones the API runs at start-up. Re-running updates changed catalogue
rows and never touches user data.

    uv run python scripts/seed_workouts.py
"""

from __future__ import annotations

import asyncio

from _app import running_app

from src.main import MODULES


async def main() -> int:
    seeders = [(m.name, s.__name__) for m in MODULES for s in m.seeders]
    async with running_app():
        pass  # start-up ran the migrations and every seeder (SEED_ON_STARTUP is forced on)
    if seeders:
        for module, name in seeders:
            print(f"seeded: {module}.{name}")
    else:
        print("no catalogue seeders are registered; nothing to seed")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
