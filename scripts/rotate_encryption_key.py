"""Re-encrypt every encrypted health field with the newest key.

Rotation: put a new key first in DATA_ENCRYPTION_KEYS (keep the old ones after it), restart the
API, run this script, then drop the old keys.

    uv run python scripts/rotate_encryption_key.py
"""

from __future__ import annotations

import asyncio

from _app import running_app

from src.core.uow import UnitOfWork
from src.modules.profile.manifest import reencrypt_all


async def main() -> int:
    async with running_app() as app:
        async with app.state.sessions.writer() as session:
            changed = await reencrypt_all(UnitOfWork(session=session, resources=app.state.resources))
            await session.commit()
    print(f"re-encrypted {changed} health profiles with the primary key")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
