"""The outbox worker as its own process: `uv run python -m src.worker`.

It builds the same application (every module's outbox handlers, the same settings and database)
without serving HTTP, and runs the dispatcher until SIGINT/SIGTERM. Start as many as needed, on
as many machines as needed: messages are claimed one worker at a time (see `src/core/outbox.py`).
API processes then run with `OUTBOX_IN_PROCESS=false` so that only workers deliver.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from src.core.settings import Settings, get_settings

logger = logging.getLogger("ugoki.worker")


async def run(settings: Settings, *, stop: asyncio.Event) -> None:
    from src.main import create_app

    # The worker always dispatches; the in-process switch concerns API processes only.
    app = create_app(settings.model_copy(update={"outbox_enabled": True, "outbox_in_process": True}))
    async with app.router.lifespan_context(app):
        logger.info("outbox worker started")
        await stop.wait()
    logger.info("outbox worker stopped")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Deliver outbox messages (push, email, after-commit work).")
    parser.add_argument("--concurrency", type=int, default=None, help="messages delivered at once (default: setting)")
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.concurrency is not None:
        settings = settings.model_copy(update={"outbox_concurrency": max(1, min(64, args.concurrency))})

    async def _main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await run(settings, stop=stop)

    asyncio.run(_main())


if __name__ == "__main__":
    main()
