"""Periodic maintenance (run it from cron or a scheduler, e.g. daily):
purges activity events older than EVENT_RETENTION_DAYS.

    uv run python scripts/maintenance.py
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from _app import running_app

from src.core.uow import UnitOfWork
from src.modules.event_journal.manifest import purge_older_than


async def main() -> int:
    async with running_app() as app:
        resources = app.state.resources
        cutoff = resources.clock.now() - timedelta(days=resources.settings.event_retention_days)
        async with app.state.sessions.writer() as session:
            purged = await purge_older_than(UnitOfWork(session=session, resources=resources), cutoff)
            await session.commit()
    print(f"purged {purged} activity events older than {cutoff.isoformat()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
