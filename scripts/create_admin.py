"""Create the first admin (or make an existing email account an admin).

    uv run python scripts/create_admin.py --email admin@example.com

The password is read from the ADMIN_PASSWORD environment variable, else prompted for (it is only
needed when the account does not exist yet).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys

from _app import running_app

from src.core.uow import UnitOfWork
from src.modules.identity.manifest import ensure_admin


async def main(email: str) -> int:
    async with running_app() as app:
        async with app.state.sessions.writer() as session:
            uow = UnitOfWork(session=session, resources=app.state.resources)
            password = os.environ.get("ADMIN_PASSWORD")
            try:
                identity, created = await ensure_admin(uow, email, password)
            except ValueError:
                if password is not None or not sys.stdin.isatty():
                    raise
                password = getpass.getpass("Password for the new admin account: ")
                identity, created = await ensure_admin(uow, email, password)
            await session.commit()
    action = "created" if created else "granted admin to existing account"
    print(f"{action}: identity {identity.id} ({email}), capabilities: {', '.join(identity.capabilities)}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--email", required=True, help="email of the admin account")
    args = parser.parse_args()
    try:
        raise SystemExit(asyncio.run(main(args.email)))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
