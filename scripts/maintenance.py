"""Periodic maintenance (run it from cron or a scheduler, e.g. daily):
purges activity events older than EVENT_RETENTION_DAYS and research search answers that expired
more than a day ago.

    uv run python scripts/maintenance.py
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from _app import running_app

from src.core.uow import UnitOfWork
from src.modules.event_journal.manifest import purge_older_than
from src.modules.research.manifest import purge_expired_searches


async def main() -> int:
    async with running_app() as app:
        resources = app.state.resources
        cutoff = resources.clock.now() - timedelta(days=resources.settings.event_retention_days)
        async with app.state.sessions.writer() as session:
            uow = UnitOfWork(session=session, resources=resources)
            purged = await purge_older_than(uow, cutoff)
            searches = await purge_expired_searches(uow, resources.clock.now() - timedelta(days=1))
            await session.commit()
    print(f"purged {purged} activity events older than {cutoff.isoformat()}")
    print(f"purged {searches} expired research search answers")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
