"""Outbox worker throughput: how many queued notifications per second N worker processes
(`python -m src.worker`) deliver to a local stand-in for the Expo push API, and that each is
delivered exactly once.

    export BENCH_DB=postgresql+asyncpg://postgres@127.0.0.1:5432/ugoki_bench
    uv run python bench/notification_workers.py --database-url $BENCH_DB --workers 1
    uv run python bench/notification_workers.py --database-url ... --workers 2 --messages 500 --latency-ms 50

The database is migrated (its name must contain "bench" or "test"; its rows are deleted first).
The fake Expo server runs in this process on a free port; `--latency-ms` makes each of its answers
take that long (the real service answers in tens to hundreds of milliseconds).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import subprocess
import sys
import time
import uuid
from typing import Any

import httpx
import uvicorn
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from src.core.settings import Settings  # noqa: E402
from src.core.uow import UnitOfWork  # noqa: E402
from src.main import create_app  # noqa: E402


class FakeExpo:
    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.titles: collections.Counter[str] = collections.Counter()
        self.requests = 0

    async def send(self, request: Request) -> JSONResponse:
        self.requests += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        body = await request.json()
        for message in body:
            self.titles[message["title"]] += 1
        return JSONResponse({"data": [{"status": "ok", "id": str(uuid.uuid4())} for _ in body]})


def _env(database_url: str, expo_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "PUSH_PROVIDER": "expo",
        "EXPO_PUSH_URL": expo_url,
        "NOTIFICATION_PUSH_HOURLY_CAP": "100",
        "OUTBOX_POLL_SECONDS": "0.05",
        "MIGRATE_ON_STARTUP": "false",
        "SEED_ON_STARTUP": "false",
        "LOG_LEVEL": "WARNING",
        "LOG_JSON": "false",
        "OUTBOX_LEASE_SECONDS": os.environ.get("BENCH_LEASE_SECONDS", "120"),
    }


def _start(command: list[str], environment: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, cwd=ROOT, env=environment)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=1, help="messages each worker delivers at once")
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument(
        "--kill-after",
        type=int,
        default=0,
        help="SIGKILL the first worker once this many pushes arrived (the others must finish its claims)",
    )
    parser.add_argument("--lease-seconds", type=int, default=120)
    args = parser.parse_args()
    os.environ["BENCH_LEASE_SECONDS"] = str(args.lease_seconds)
    name = args.database_url.rsplit("/", 1)[-1]
    if "bench" not in name and "test" not in name:
        raise SystemExit("the database name must contain 'bench' or 'test' (its rows are deleted)")

    fake = FakeExpo(args.latency_ms / 1000)
    server = uvicorn.Server(
        uvicorn.Config(
            Starlette(routes=[Route("/push/send", fake.send, methods=["POST"])]),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn exposes no event
        await asyncio.sleep(0.01)
    expo_url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/push"

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=args.database_url,
        environment="development",
        outbox_enabled=False,
        rate_limit_enabled=False,
        log_level="WARNING",
        log_json=False,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):  # migrates and seeds
        sessions = app.state.sessions
        async with sessions.writer() as session:
            await session.execute(
                text(
                    "TRUNCATE outbox_messages, notification_deliveries, notifications, device_tokens, "
                    "notification_preferences, identities CASCADE"
                )
            )
            await session.commit()
        transport = httpx.ASGITransport(app=app)
        people: list[str] = []
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for i in range(args.people):
                answer = await client.post(
                    "/api/v1/identity/authenticate", json={"provider": "anonymous", "token": f"bench-device-{i:08d}-x"}
                )
                body = answer.json()
                headers = {"Authorization": f"Bearer {body['access_token']}"}
                await client.post(
                    "/api/v1/notifications/devices",
                    headers=headers,
                    json={"token": f"ExponentPushToken[bench-{i}]", "platform": "ios"},
                )
                people.append(body["identity"]["id"])

        command = [sys.executable, "-m", "src.worker", "--concurrency", str(args.concurrency)]
        environment = _env(args.database_url, expo_url)
        workers = [_start(command, environment) for _ in range(args.workers)]
        try:
            await asyncio.sleep(4)  # let the workers start
            async with sessions.writer() as session:
                uow = UnitOfWork(session=session, resources=app.state.resources)
                for n in range(args.messages):
                    person = people[n % len(people)]
                    uow.enqueue(
                        "notification.send",
                        {"identity_id": person, "category": "social", "title": f"m{n}", "body": "Hello"},
                        identity_id=uuid.UUID(person),
                    )
                await session.commit()
            started = time.perf_counter()
            killed = False
            while len(fake.titles) < args.messages:
                if time.perf_counter() - started > 300:
                    raise SystemExit(f"timed out with {len(fake.titles)} delivered")
                if args.kill_after and not killed and sum(fake.titles.values()) >= args.kill_after:
                    workers[0].kill()  # kill -9: its claimed messages wait for their lease to expire
                    killed = True
                await asyncio.sleep(0.01)
            elapsed = time.perf_counter() - started
            await asyncio.sleep(1)  # anything sent twice would arrive now
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=30)
    server.should_exit = True
    await serving
    duplicates = sum(c - 1 for c in fake.titles.values() if c > 1)
    result: dict[str, Any] = {
        "workers": args.workers,
        "killed_one": bool(args.kill_after),
        "concurrency": args.concurrency,
        "latency_ms": args.latency_ms,
        "messages": args.messages,
        "delivered": len(fake.titles),
        "duplicates": duplicates,
        "seconds": round(elapsed, 2),
        "messages_per_second": round(args.messages / elapsed, 1),
    }
    print(result)


if __name__ == "__main__":
    asyncio.run(main())
