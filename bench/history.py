"""Cost against the size of a person's history, and the bounded work of uploads.

Runs the API in process (no server, no network) on a fresh database and prints:

- Apple Health import: seconds for an export of `--weights` weigh-ins (a zipped export.xml);
- for people with 0, 1 and 3 years of daily use (6 journal events a day) and one with `--big`
  events, among `--others` events of other people (written straight to the journal's table, then
  counted as a bulk load is): `GET /events/summary` over the whole history, `GET /events/feed`
  with a cursor deep in the history (median ms of 20 calls), and `GET /profile/export` as JSON
  and as ZIP, from a server started in a process of its own (`uvicorn` on 127.0.0.1, one worker,
  same database): ms, size, and that process's resident memory before and at its peak during
  the export (the peak is reset before each export); also the export of the person of the
  Apple Health import;
- reading a PDF whose page stream inflates to 400 MB: the answer and the peak memory of the
  reading child process.

    uv run python bench/history.py                      # SQLite, reduced scale
    uv run python bench/history.py --others 1000000 --big 100000 --weights 100000 \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/ugoki_bench_history

A PostgreSQL database named in `--database-url` is dropped and recreated.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import resource
import statistics
import sys
import tempfile
import time
import uuid
import zipfile
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository, for `src`

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bench.load import ManagedServer
from src.core.settings import Settings
from src.core.uow import UnitOfWork
from src.database import Base
from src.main import create_app
from src.modules.event_journal.manifest import recount

EVENTS_PER_DAY = 6
KINDS = (("fast_completed", "fasting"), ("workout_completed", "workout"), ("weight_logged", "metrics"))


async def _reset_postgres(url: str) -> None:
    parsed = make_url(url)
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    await admin.dispose()


async def _seed(app: Any, owner: uuid.UUID, count: int, end: datetime) -> None:
    table = Base.metadata.tables["activity_events"]
    step = timedelta(days=1) / EVENTS_PER_DAY
    async with app.state.sessions.writer() as session:
        rows: list[dict[str, Any]] = []
        for i in range(count):
            event_type, category = KINDS[i % len(KINDS)]
            at = end - step * (count - i)
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "identity_id": owner,
                    "event_type": event_type,
                    "category": category,
                    "occurred_at": at,
                    "related_id": None,
                    "related_type": None,
                    "source": "api",
                    "metadata": {"duration_minutes": 960, "xp_earned": 25},
                    "description": None,
                    "created_at": at,
                }
            )
            if len(rows) == 10_000:
                await session.execute(insert(table), rows)
                await session.commit()
                rows = []
        if rows:
            await session.execute(insert(table), rows)
        await session.commit()
        await recount(UnitOfWork(session=session, resources=app.state.resources), owner)
        await session.commit()


def _reset_peak_memory(pid: int) -> None:
    with open(f"/proc/{pid}/clear_refs", "w") as handle:
        handle.write("5")  # the peak (VmHWM) starts again from the current RSS


def _memory_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def _export(base_url: str, pid: int, headers: dict[str, str], fmt: str) -> tuple[float, float, float, float]:
    """GET /profile/export from the server process: (ms, bytes, RSS MB before, peak RSS MB)."""
    before = _memory_kb(pid, "VmRSS") / 1024
    _reset_peak_memory(pid)
    size = 0
    started = time.perf_counter()
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=600) as client,
        client.stream("GET", "/api/v1/profile/export", headers=headers, params={"format": fmt}) as response,
    ):
        response.raise_for_status()
        async for chunk in response.aiter_bytes():
            size += len(chunk)
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, size, before, _memory_kb(pid, "VmHWM") / 1024


async def _user(client: httpx.AsyncClient) -> tuple[uuid.UUID, dict[str, str]]:
    response = await client.post(
        "/api/v1/identity/authenticate", json={"provider": "anonymous", "token": f"bench-{uuid.uuid4()}"}
    )
    response.raise_for_status()
    body = response.json()
    return uuid.UUID(body["identity"]["id"]), {"Authorization": f"Bearer {body['access_token']}"}


async def _median_ms(client: httpx.AsyncClient, path: str, headers: dict[str, str], params: dict[str, Any]) -> float:
    times = []
    for _ in range(20):
        started = time.perf_counter()
        response = await client.get(path, headers=headers, params=params)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return statistics.median(times)


def _weights_export(count: int, end: datetime) -> bytes:
    lines = []
    for i in range(count):
        at = (end - timedelta(minutes=30) * (count - i)).strftime("%Y-%m-%d %H:%M:%S +0000")
        lines.append(
            f'  <Record type="HKQuantityTypeIdentifierBodyMass" sourceName="Scale" unit="kg" '
            f'creationDate="{at}" startDate="{at}" endDate="{at}" value="{70 + (i % 200) / 10}"/>\n'
        )
    xml = '<?xml version="1.0" encoding="UTF-8"?>\n<HealthData locale="en_GB">\n' + "".join(lines) + "</HealthData>\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("apple_health_export/export.xml", xml)
    return buffer.getvalue()


def _bomb_pdf(inflated_mb: int) -> bytes:
    compressor = zlib.compressobj(9)
    deflated = b"".join(compressor.compress(b" " * 1_048_576) for _ in range(inflated_mb)) + compressor.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(deflated) + deflated + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


async def main(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="ugoki-bench-"))
    url = args.database_url or f"sqlite+aiosqlite:///{folder}/bench.db"
    if url.startswith("postgresql"):
        await _reset_postgres(url)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        environment="development",
        database_url=url,
        data_dir=folder,
        rate_limit_enabled=False,
        outbox_enabled=False,
        log_level="WARNING",
        max_upload_bytes=10 * 1_048_576,
    )
    app = create_app(settings)
    now = datetime.now(UTC)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=600) as client:
            print(f"database: {url.split('://')[0]}")

            # Apple Health import
            _, importer = await _user(client)
            headers = importer
            export = _weights_export(args.weights, now)
            started, cpu = time.perf_counter(), time.process_time()
            response = await client.post(
                "/api/v1/health-sync/import/apple-health",
                headers=headers,
                files={"file": ("export.zip", export, "application/zip")},
            )
            elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
            print(
                f"apple health import: {args.weights} weigh-ins ({len(export) / 1e6:.1f} MB zip) "
                f"-> {response.status_code} imported={response.json().get('imported')} in {elapsed:.1f} s "
                f"({cpu:.1f} s of API process CPU)"
            )

            # Histories
            if args.skip_histories:
                return
            started = time.perf_counter()
            filler = args.others // 1000
            for _ in range(1000):
                await _seed(app, uuid.uuid4(), filler, now)
            print(f"seeded {filler * 1000} events of 1000 other people in {time.perf_counter() - started:.0f} s")
            people = [("0 years", 0), ("1 year", 365 * EVENTS_PER_DAY), ("3 years", 3 * 365 * EVENTS_PER_DAY)]
            people.append((f"{args.big} events", args.big))
            server = ManagedServer(database_url=url, workers=1, data_dir=folder, startup_timeout=120)
            server.start()
            pid = server.pid or 0
            try:
                print(
                    f"{'person':>16} {'events':>8} {'summary ms':>11} {'deep feed ms':>13} | "
                    f"{'export':>6} {'ms':>7} {'MB':>6} {'server RSS MB before -> peak':>29}"
                )
                for label, count in people:
                    owner, headers = await _user(client)
                    await _seed(app, owner, count, now)
                    period = {"start_time": "2000-01-01T00:00:00Z", "end_time": (now + timedelta(days=1)).isoformat()}
                    summary_ms = await _median_ms(client, "/api/v1/events/summary", headers, period)
                    deep = now - timedelta(days=1) / EVENTS_PER_DAY * max(count - 50, 0)
                    cursor = {"limit": 20, "before": deep.isoformat(), "before_id": str(uuid.UUID(int=2**128 - 1))}
                    feed_ms = await _median_ms(client, "/api/v1/events/feed", headers, cursor)
                    for position, fmt in enumerate(("json", "zip")):
                        export_ms, size, before, peak = await _export(server.base_url, pid, headers, fmt)
                        lead = f"{label:>16} {count:>8} {summary_ms:>11.1f} {feed_ms:>13.2f}" if not position else ""
                        print(
                            f"{lead:>51} | {fmt:>6} {export_ms:>7.0f} {size / 1e6:>6.1f} "
                            f"{before:>19.0f} -> {peak:>5.0f}"
                        )
                # The person of the Apple Health import: a long series of weigh-ins (metrics).
                for position, fmt in enumerate(("json", "zip")):
                    export_ms, size, before, peak = await _export(server.base_url, pid, importer, fmt)
                    lead = f"{args.weights} weigh-ins" if not position else ""
                    print(f"{lead:>51} | {fmt:>6} {export_ms:>7.0f} {size / 1e6:>6.1f} {before:>19.0f} -> {peak:>5.0f}")
            finally:
                server.stop()

            # Decompression bomb
            _, headers = await _user(client)
            bomb = _bomb_pdf(400)
            before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            started = time.perf_counter()
            response = await client.post(
                "/api/v1/uploads/bloodwork", headers=headers, files={"file": ("r.pdf", bomb, "application/pdf")}
            )
            after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"PDF bomb ({len(bomb) / 1e3:.0f} kB -> 400 MB): {response.status_code} {response.json().get('code')} "
                f"in {time.perf_counter() - started:.1f} s; API process peak RSS {before:.0f} -> {after:.0f} MB "
                f"(the reading child is limited to {settings.document_reader_memory_mb} MB of address space)"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--others", type=int, default=200_000, help="events of other people")
    parser.add_argument("--big", type=int, default=100_000, help="events of the person with the longest journal")
    parser.add_argument("--weights", type=int, default=100_000, help="weigh-ins in the Apple Health export")
    parser.add_argument("--skip-histories", action="store_true", help="only the Apple Health import")
    asyncio.run(main(parser.parse_args()))
