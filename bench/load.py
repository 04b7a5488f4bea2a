"""Load benchmark for the UGOKI API.

By default it starts the API itself (`uvicorn src.main:app` on 127.0.0.1, a free port, a fresh
database), signs up a set of anonymous users, then runs each scenario for a fixed time with every
virtual user looping on its own keep-alive connection, and prints one row per scenario:
requests, errors (non-2xx), req/s and latency percentiles.

    uv run python bench/load.py --duration 10 --users 50
    uv run python bench/load.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/ugoki_bench --workers 2
    uv run python bench/load.py --url http://127.0.0.1:8000 --scenarios health,identity_me

New scenarios go in `SCENARIOS` (name -> async callable taking a `UserContext`), nothing else to change.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import asyncpg
import httpx
from sqlalchemy.engine import URL, make_url

ROOT = Path(__file__).resolve().parents[1]
API = "/api/v1"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MACHINE_CAVEAT = (
    "shared and noisy 2-core class machine: absolute numbers drift between runs, "
    "compare ratios within one run (load client and server share the CPUs)"
)


# --------------------------------------------------------------------------------------------
# HTTP clients: one connection per virtual user
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.body)


class Connection(Protocol):
    async def request(
        self, method: str, path: str, *, token: str | None = None, json_body: object | None = None
    ) -> Response: ...

    async def close(self) -> None: ...


class RawConnection:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams (Content-Length and chunked bodies).

    It does a fraction of httpx's work per request, so the load client saturates later; the
    server sees the same requests either way.
    """

    def __init__(self, host: str, port: int, *, timeout: float) -> None:
        self._host = host
        self._port = port
        self._timeout = timeout
        self._host_header = f"{host}:{port}".encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, *, token: str | None = None, json_body: object | None = None
    ) -> Response:
        lines = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + self._host_header, b"Accept: application/json"]
        if token:
            lines.append(b"Authorization: Bearer " + token.encode())
        body = b""
        if json_body is not None:
            body = json.dumps(json_body, separators=(",", ":")).encode()
            lines.append(b"Content-Type: application/json")
        if json_body is not None or method not in ("GET", "HEAD", "DELETE"):
            lines.append(b"Content-Length: " + str(len(body)).encode())
        payload = b"\r\n".join(lines) + b"\r\n\r\n" + body
        try:
            async with asyncio.timeout(self._timeout):
                reader, writer = await self._connection()
                writer.write(payload)
                return await self._read_response(reader)
        except BaseException:
            # A half-read response leaves the stream unusable: start over on the next request.
            await self.close()
            raise

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        return self._reader, self._writer

    async def _read_response(self, reader: asyncio.StreamReader) -> Response:
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, _, header_block = head[:-4].partition(b"\r\n")
        status = int(status_line.split(b" ", 2)[1])
        length: int | None = None
        chunked = False
        close = False
        for line in header_block.split(b"\r\n"):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = b"close" in value.lower()
        if status in (204, 304) or status < 200:
            body = b""
        elif chunked:
            body = await self._read_chunked(reader)
        elif length is not None:
            body = await reader.readexactly(length)
        else:
            body = await reader.read()
            close = True
        if close:
            await self.close()
        return Response(status, body)

    @staticmethod
    async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                    pass
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)


class HttpxConnection:
    """httpx.AsyncClient with a single connection (never one client shared by many users)."""

    def __init__(self, base_url: str, *, timeout: float) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeout,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            headers={"Accept": "application/json"},
        )

    async def request(
        self, method: str, path: str, *, token: str | None = None, json_body: object | None = None
    ) -> Response:
        headers = {"Authorization": f"Bearer {token}"} if token else None
        response = await self._client.request(method, path, headers=headers, json=json_body)
        return Response(response.status_code, response.content)

    async def close(self) -> None:
        await self._client.aclose()


ConnectionFactory = Callable[[], Connection]


def connection_factory(kind: str, base_url: str, *, timeout: float) -> ConnectionFactory:
    if kind == "httpx":
        return lambda: HttpxConnection(base_url, timeout=timeout)
    parts = urlsplit(base_url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 80
    return lambda: RawConnection(host, port, timeout=timeout)


# --------------------------------------------------------------------------------------------
# Virtual users and scenarios
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class UserContext:
    """One virtual user: its connection, its device id and its current tokens."""

    index: int
    conn: Connection
    device_id: str
    access_token: str = ""
    refresh_token: str = ""
    fast_id: str | None = None
    session_id: str | None = None
    workout_id: str | None = None
    label: str | None = None  # which request of a mixed scenario the last call was
    steps: int = 0

    def adopt(self, response: Response) -> None:
        data = response.json()
        self.access_token = data["access_token"]
        self.refresh_token = data["refresh_token"]

    async def sign_in(self) -> Response:
        response = await self.conn.request(
            "POST", f"{API}/identity/authenticate", json_body={"provider": "anonymous", "token": self.device_id}
        )
        if response.ok:
            self.adopt(response)
        return response

    async def get(self, path: str) -> Response:
        return await self.conn.request("GET", path, token=self.access_token)


Scenario = Callable[[UserContext], Awaitable[Response]]


async def health(ctx: UserContext) -> Response:
    """Liveness probe: no auth, no database. The framework (and load client) ceiling."""
    return await ctx.conn.request("GET", "/health")


async def auth(ctx: UserContext) -> Response:
    """Anonymous sign-in of an existing device id: a write (session, refresh token, login event)."""
    return await ctx.sign_in()


async def identity_me(ctx: UserContext) -> Response:
    """Bearer token check plus reading the identity (capabilities and providers)."""
    return await ctx.get(f"{API}/identity/me")


async def events_feed(ctx: UserContext) -> Response:
    """The activity feed the app polls: token check plus an indexed, limited read."""
    return await ctx.get(f"{API}/events/feed")


async def refresh(ctx: UserContext) -> Response:
    """Refresh-token rotation: a locked read, then updates and a new token row; the user keeps the new token."""
    response = await ctx.conn.request("POST", f"{API}/identity/refresh", json_body={"refresh_token": ctx.refresh_token})
    if response.ok:
        ctx.adopt(response)
    return response


async def _open_fast(ctx: UserContext) -> Response:
    response = await ctx.conn.request(
        "POST",
        f"{API}/time-keeper/windows",
        json_body={"window_type": "fast", "metadata": {"protocol": "16:8", "target_hours": 16}},
        token=ctx.access_token,
    )
    if response.status == 201:
        ctx.fast_id = response.json()["id"]
    elif response.status == 409:  # one is already open (e.g. from an earlier scenario): find it
        active = await ctx.get(f"{API}/time-keeper/windows/active?window_type=fast")
        if active.ok and active.json():
            ctx.fast_id = active.json()["id"]
    return response


async def fast_active(ctx: UserContext) -> Response:
    """The timer screen's poll: the running fast with elapsed time, progress and stage."""
    if ctx.fast_id is None:
        await _open_fast(ctx)
    return await ctx.get(f"{API}/time-keeper/windows/active?window_type=fast")


async def fast_elapsed(ctx: UserContext) -> Response:
    """Elapsed seconds of the user's own fast (owner-checked)."""
    if ctx.fast_id is None:
        await _open_fast(ctx)
    return await ctx.get(f"{API}/time-keeper/windows/{ctx.fast_id}/elapsed")


async def fast_open_close(ctx: UserContext) -> Response:
    """Alternately start a fast and end it (abandoned: no XP cascade), both writes timed."""
    if ctx.fast_id is None:
        return await _open_fast(ctx)
    response = await ctx.conn.request(
        "POST",
        f"{API}/time-keeper/windows/{ctx.fast_id}/close",
        json_body={"end_state": "abandoned"},
        token=ctx.access_token,
    )
    ctx.fast_id = None
    return response


async def progression_overview(ctx: UserContext) -> Response:
    """The home screen's progression card: level, streaks, recent achievements, XP today/week."""
    return await ctx.get(f"{API}/progression/overview")


async def workouts_list(ctx: UserContext) -> Response:
    """The workout browser: catalogue page with categories (public, no auth)."""
    return await ctx.conn.request("GET", f"{API}/content/workouts?limit=20")


async def _a_workout(ctx: UserContext) -> str:
    if ctx.workout_id is None:
        response = await ctx.conn.request("GET", f"{API}/content/workouts?limit=23")
        workouts = response.json()
        ctx.workout_id = workouts[ctx.index % len(workouts)]["id"]
    return ctx.workout_id


async def workout_detail(ctx: UserContext) -> Response:
    """One workout with its exercises."""
    workout_id = await _a_workout(ctx)
    return await ctx.conn.request("GET", f"{API}/content/workouts/{workout_id}?include_exercises=true")


async def workout_session(ctx: UserContext) -> Response:
    """Alternately start a workout session and complete it (too short to earn credit: the write
    path without the XP cascade), both timed."""
    if ctx.session_id is None:
        workout_id = await _a_workout(ctx)
        response = await ctx.conn.request(
            "POST", f"{API}/content/sessions", json_body={"workout_id": workout_id}, token=ctx.access_token
        )
        if response.status == 201:
            ctx.session_id = response.json()["id"]
        return response
    response = await ctx.conn.request(
        "POST", f"{API}/content/sessions/{ctx.session_id}/complete", json_body={}, token=ctx.access_token
    )
    ctx.session_id = None
    return response


async def weigh_in(ctx: UserContext) -> Response:
    """`POST /metrics` with a weigh-in: the metric, the progression cascade (XP once a day),
    challenge progress, webhooks and the journal, in one write."""
    ctx.steps += 1
    return await ctx.conn.request(
        "POST",
        f"{API}/metrics",
        json_body={"metric_type": "weight_kg", "value": 60 + (ctx.steps % 300) / 10},
        token=ctx.access_token,
    )


# The mixed load of the performance targets: 40 % running fast, 20 % progression card, 20 %
# workout list, 10 % weigh-in, 10 % who-am-I (a fixed, interleaved order per virtual user).
MIX: tuple[tuple[str, Scenario], ...] = (
    ("fast_active", fast_active),
    ("progression_overview", progression_overview),
    ("fast_active", fast_active),
    ("workouts_list", workouts_list),
    ("weigh_in", weigh_in),
    ("fast_active", fast_active),
    ("progression_overview", progression_overview),
    ("fast_active", fast_active),
    ("workouts_list", workouts_list),
    ("identity_me", identity_me),
)


async def mix(ctx: UserContext) -> Response:
    ctx.label, scenario = MIX[(ctx.index + ctx.steps) % len(MIX)]
    if ctx.label != "weigh_in":
        ctx.steps += 1  # weigh_in counts its own step
    return await scenario(ctx)


SCENARIOS: dict[str, Scenario] = {
    "health": health,
    "auth": auth,
    "identity_me": identity_me,
    "events_feed": events_feed,
    "refresh": refresh,
    "fast_active": fast_active,
    "fast_elapsed": fast_elapsed,
    "fast_open_close": fast_open_close,
    "progression_overview": progression_overview,
    "workouts_list": workouts_list,
    "workout_detail": workout_detail,
    "workout_session": workout_session,
    "weigh_in": weigh_in,
    "mix": mix,
}


# --------------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Result:
    scenario: str
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    parts: dict[str, Result] = field(default_factory=dict)  # per request of a mixed scenario
    server_cpu_s: float | None = None  # CPU time of the server's processes (when started here)
    client_cpu_s: float = 0.0  # CPU time of this load client

    @property
    def server_ms_per_request(self) -> float | None:
        if self.server_cpu_s is None or not self.requests:
            return None
        return self.server_cpu_s * 1000 / self.requests

    @property
    def client_cpu_percent(self) -> float:
        return self.client_cpu_s * 100 / self.seconds if self.seconds > 0 else 0.0

    @property
    def requests(self) -> int:
        return len(self.latencies_ms)

    @property
    def errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if not status.startswith("2"))

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the latencies, in ms (0 when nothing was measured)."""
        if not self.latencies_ms:
            return 0.0
        ordered = sorted(self.latencies_ms)
        rank = max(1, math.ceil(p / 100 * len(ordered)))
        return ordered[rank - 1]

    def record(self, status: str, elapsed_ms: float) -> None:
        self.latencies_ms.append(elapsed_ms)
        self.statuses[status] += 1

    def as_dict(self) -> dict[str, object]:
        return {
            "scenario": self.scenario,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p95_ms": round(self.percentile(95), 2),
            "p99_ms": round(self.percentile(99), 2),
            "max_ms": round(max(self.latencies_ms, default=0.0), 2),
            "server_cpu_ms_per_request": None
            if (per_request := self.server_ms_per_request) is None
            else round(per_request, 3),
            "client_cpu_percent": round(self.client_cpu_percent, 1),
            "statuses": dict(self.statuses),
        }


class Meter:
    """Wall time, load-client CPU and server CPU of one measured phase.

    Server CPU is the sum over the server's process group (every worker), read from /proc; it is
    the figure least disturbed by a noisy machine, so it is the one to compare across runs.
    """

    def __init__(self, server_pgid: int | None) -> None:
        self.server_pgid = server_pgid
        self._clock_ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def server_cpu_seconds(self) -> float | None:
        if self.server_pgid is None:
            return None
        proc = Path("/proc")
        if not proc.is_dir():
            return None
        ticks = 0
        found = False
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # the process ended meanwhile
            if int(fields[2]) == self.server_pgid:  # fields: state ppid pgrp ... utime(11) stime(12)
                ticks += int(fields[11]) + int(fields[12])
                found = True
        return ticks / self._clock_ticks if found else None

    @contextlib.contextmanager
    def measure(self, result: Result) -> Iterator[None]:
        server_before = self.server_cpu_seconds()
        client_before = time.process_time()
        started = time.perf_counter()
        yield
        result.seconds = time.perf_counter() - started
        result.client_cpu_s = time.process_time() - client_before
        server_after = self.server_cpu_seconds()
        if server_before is not None and server_after is not None:
            result.server_cpu_s = server_after - server_before


async def timed(scenario: Scenario, ctx: UserContext) -> tuple[str, float, Response | None]:
    started = time.perf_counter()
    try:
        response = await scenario(ctx)
    except Exception as exc:  # a transport failure is an error of the run, not of the script
        return type(exc).__name__, (time.perf_counter() - started) * 1000, None
    return str(response.status), (time.perf_counter() - started) * 1000, response


async def recover(ctx: UserContext, response: Response | None) -> None:
    """After a 401/403 sign in again (untimed), so one failure does not fail every later request."""
    if response is not None and response.status in (401, 403):
        with contextlib.suppress(Exception):
            await ctx.sign_in()


async def run_scenario(
    name: str, scenario: Scenario, users: list[UserContext], *, duration: float, warmup: float, meter: Meter
) -> Result:
    result = Result(name)

    async def loop(ctx: UserContext, until: float, measure: bool) -> None:
        while time.perf_counter() < until:
            ctx.label = None
            status, elapsed_ms, response = await timed(scenario, ctx)
            if measure:
                result.record(status, elapsed_ms)
                if ctx.label is not None:
                    part = result.parts.setdefault(ctx.label, Result(f"  {name}:{ctx.label}"))
                    part.record(status, elapsed_ms)
            await recover(ctx, response)

    if warmup > 0:
        until = time.perf_counter() + warmup
        await asyncio.gather(*(loop(ctx, until, False) for ctx in users))
    with meter.measure(result):
        until = time.perf_counter() + duration
        await asyncio.gather(*(loop(ctx, until, True) for ctx in users))
    return result


async def sign_up(
    factory: ConnectionFactory, *, users: int, accounts: int, run_id: str, meter: Meter
) -> tuple[Result, list[UserContext]]:
    """Phase 1: create `accounts` anonymous identities with `users` concurrent clients (timed as
    `signup`), then give every virtual user its own session (untimed sign-ins of existing devices
    when there are more users than accounts)."""
    device_ids = [f"bench-{run_id}-{i:07d}" for i in range(accounts)]
    contexts = [UserContext(i, factory(), device_ids[i % accounts]) for i in range(users)]
    signed_up: dict[int, Response] = {}
    result = Result("signup")
    pending = iter(range(accounts))

    async def worker(ctx: UserContext) -> None:
        for account in pending:
            signer = UserContext(ctx.index, ctx.conn, device_ids[account])
            status, elapsed_ms, response = await timed(auth, signer)
            result.record(status, elapsed_ms)
            if response is not None and response.ok:
                signed_up[account] = response

    with meter.measure(result):
        await asyncio.gather(*(worker(ctx) for ctx in contexts))

    async def own_session(ctx: UserContext) -> None:
        if ctx.index in signed_up:
            ctx.adopt(signed_up[ctx.index])
            return
        try:
            response = await ctx.sign_in()
        except Exception as exc:
            raise SystemExit(f"virtual user {ctx.index} could not sign in: {exc!r}") from exc
        if not response.ok:
            detail = response.body[:200].decode(errors="replace")
            raise SystemExit(f"virtual user {ctx.index} could not sign in: HTTP {response.status} {detail}")

    await asyncio.gather(*(own_session(ctx) for ctx in contexts))
    return result, contexts


# --------------------------------------------------------------------------------------------
# Server and database under test
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ServerInfo:
    base_url: str
    started_here: bool
    workers: int | None
    database: str | None  # dialect (driver)
    database_url: str | None  # password hidden
    process_group: int | None = None  # of the started server, for its CPU time


def dialect_label(url: URL) -> str:
    return f"{url.get_backend_name()} ({url.get_driver_name()})"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def prepare_postgres(url: URL, *, keep: bool) -> None:
    """Create the benchmark database if missing; drop and recreate it for a clean run unless `keep`."""
    name = url.database
    if not name:
        raise SystemExit("the PostgreSQL URL names no database")
    if url.host not in (None, *LOOPBACK_HOSTS):
        raise SystemExit(f"refusing a database on {url.host}: the benchmark runs on loopback only")
    conn = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, password=url.password, database="postgres"
    )
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and keep:
            return
        if exists:
            if "bench" not in name:
                raise SystemExit(f"refusing to drop database {name!r} (name lacks 'bench'); pass --keep-db to use it")
            await conn.execute("DROP DATABASE " + quote_ident(name) + " WITH (FORCE)")
        await conn.execute("CREATE DATABASE " + quote_ident(name))
    finally:
        await conn.close()


def wait_ready(base_url: str, *, timeout: float, failed: Callable[[], str | None] = lambda: None) -> bool:
    """Poll GET /health/ready until it answers 200 (True) or `timeout` passes (False); `failed`
    may end the wait early with a message (the server process died)."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=base_url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if (message := failed()) is not None:
                raise SystemExit(message)
            with contextlib.suppress(httpx.TransportError):
                if client.get("/health/ready").status_code == 200:
                    return True
            time.sleep(0.2)
    return False


class ManagedServer:
    """`uvicorn src.main:app` in a subprocess on 127.0.0.1; migrations run at its start-up."""

    def __init__(
        self,
        *,
        database_url: str,
        workers: int,
        data_dir: Path,
        startup_timeout: float,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.env = env or {}
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.workers = workers
        self.data_dir = data_dir
        self.startup_timeout = startup_timeout
        self.log_path = data_dir / "server.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.database_url,
            RATE_LIMIT_ENABLED="false",
            LOG_LEVEL="WARNING",
            ENVIRONMENT="development",
            DATA_DIR=str(self.data_dir),  # the migration lock file lives here
        )
        env.update(self.env)  # e.g. the production stack of bench/wrk.py
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "src.main:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        def exited() -> str | None:
            if self._process is not None and self._process.poll() is not None:
                return f"the server exited with code {self._process.returncode}:\n{self.log_tail()}"
            return None

        if not wait_ready(self.base_url, timeout=self.startup_timeout, failed=exited):
            raise SystemExit(f"the server was not ready within {self.startup_timeout:.0f} s:\n{self.log_tail()}")

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def log_tail(self, lines: int = 40) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        # Workers of a multi-process server share its process group: leave none behind.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


@contextlib.contextmanager
def server_under_test(args: argparse.Namespace) -> Iterator[ServerInfo]:
    if args.url:
        parts = urlsplit(args.url)
        if parts.scheme != "http" or parts.hostname not in LOOPBACK_HOSTS:
            raise SystemExit("--url must be http:// on 127.0.0.1, localhost or ::1 (loopback only)")
        if not wait_ready(args.url.rstrip("/"), timeout=args.startup_timeout):
            raise SystemExit(
                f"{args.url} did not answer GET /health/ready with 200 within {args.startup_timeout:.0f} s"
            )
        yield ServerInfo(args.url.rstrip("/"), started_here=False, workers=None, database=None, database_url=None)
        return
    with tempfile.TemporaryDirectory(prefix="ugoki-bench-") as tmp:
        data_dir = Path(tmp)
        database_url = args.database_url or f"sqlite+aiosqlite:///{data_dir / 'bench.db'}"
        url = make_url(database_url)
        if url.get_backend_name() == "postgresql":
            asyncio.run(prepare_postgres(url, keep=args.keep_db))
        server = ManagedServer(
            database_url=database_url, workers=args.workers, data_dir=data_dir, startup_timeout=args.startup_timeout
        )
        try:
            server.start()
            yield ServerInfo(
                server.base_url,
                started_here=True,
                workers=args.workers,
                database=dialect_label(url),
                database_url=url.render_as_string(hide_password=True),
                process_group=server.pid,
            )
        finally:
            server.stop()


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def header(info: ServerInfo, args: argparse.Namespace, scenarios: list[str]) -> list[str]:
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    if info.started_here:
        workers = f"{info.workers} worker{'s' if info.workers != 1 else ''}"
        server = f"uvicorn src.main:app, {workers}, database {info.database}, rate limiting off, started here"
    else:
        server = f"external server at {info.base_url} (workers and database as it was started)"
    return [
        f"UGOKI load benchmark, {datetime.now(UTC).isoformat(timespec='seconds')}",
        f"machine:   {os.cpu_count()} CPUs, load average {load}; {MACHINE_CAVEAT}",
        f"server:    {server}",
        f"load:      {args.users} virtual users (one keep-alive connection each, {args.client} client), "
        f"{args.signup_users} sign-ups, {args.duration:g} s per scenario after {args.warmup:g} s warm-up",
        f"scenarios: {', '.join(scenarios)}",
    ]


def table(results: list[Result]) -> list[str]:
    """One row per scenario. `vs health` is req/s relative to the health row of this run;
    `srv ms/req` is server CPU per request; `client cpu` near 100 % means the load client, not the
    server, was the limit."""
    baseline = next((r.rps for r in results if r.scenario == "health" and r.rps > 0), None)
    columns = (
        f"{'scenario':<14} {'requests':>9} {'errors':>7} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
        f" {'vs health':>9} {'srv ms/req':>10} {'client cpu':>10}"
    )
    rows = [columns, "-" * len(columns)]
    for r in results:
        ratio = f"{r.rps / baseline:.3f}" if baseline else "-"
        per_request = r.server_ms_per_request
        server_cpu = f"{per_request:.2f}" if per_request is not None else "-"
        rows.append(
            f"{r.scenario:<14} {r.requests:>9} {r.errors:>7} {r.rps:>9.1f} "
            f"{r.percentile(50):>8.2f} {r.percentile(95):>8.2f} {r.percentile(99):>8.2f}"
            f" {ratio:>9} {server_cpu:>10} {r.client_cpu_percent:>9.0f}%"
        )
        for part in sorted(r.parts.values(), key=lambda p: p.scenario):
            rows.append(
                f"{part.scenario:<14} {part.requests:>9} {part.errors:>7} {part.requests / r.seconds:>9.1f} "
                f"{part.percentile(50):>8.2f} {part.percentile(95):>8.2f} {part.percentile(99):>8.2f}"
            )
    for r in results:
        if r.errors:
            detail = ", ".join(f"{status}: {count}" for status, count in sorted(r.statuses.items()))
            rows.append(f"  {r.scenario} statuses: {detail}")
    return rows


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=(
            "Load benchmark for the UGOKI API. Starts `uvicorn src.main:app` on 127.0.0.1 (or uses --url), "
            "signs up anonymous users, then runs each scenario for --duration seconds with --users virtual "
            "users, each on its own keep-alive connection, and prints requests, errors, req/s and p50/p95/p99."
        ),
        epilog=(
            f"Scenarios: {', '.join(SCENARIOS)}. The machine is shared and noisy: compare ratios "
            "within one run rather than absolute numbers across runs."
        ),
    )
    server = parser.add_argument_group("server under test")
    server.add_argument("--url", help="benchmark an already running server on loopback instead of starting one")
    server.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default: %(default)s)")
    server.add_argument(
        "--database-url",
        help=(
            "database for the started server; default: a fresh SQLite file in a temporary directory. "
            "PostgreSQL, e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/ugoki_bench, is created if "
            "missing and dropped and recreated unless --keep-db"
        ),
    )
    server.add_argument("--keep-db", action="store_true", help="reuse the PostgreSQL database as it is")
    server.add_argument(
        "--startup-timeout",
        type=float,
        default=60.0,
        help="seconds to wait for GET /health/ready to answer 200 (default: %(default)s)",
    )
    load = parser.add_argument_group("load")
    load.add_argument(
        "--duration", type=float, default=10.0, help="measured seconds per scenario (default: %(default)s)"
    )
    load.add_argument(
        "--warmup", type=float, default=1.0, help="unmeasured seconds before each scenario (default: %(default)s)"
    )
    load.add_argument(
        "--users", type=int, default=50, help="virtual users = concurrent connections (default: %(default)s)"
    )
    load.add_argument("--signup-users", type=int, help="accounts to create in phase 1 (default: --users)")
    load.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help="comma-separated scenarios to run, in order (default: %(default)s)",
    )
    load.add_argument(
        "--client",
        choices=("raw", "httpx"),
        default="raw",
        help=(
            "raw: minimal HTTP/1.1 on asyncio streams (less client CPU); "
            "httpx: one AsyncClient per user (default: %(default)s)"
        ),
    )
    load.add_argument(
        "--timeout", type=float, default=30.0, help="seconds before one request counts as failed (default: %(default)s)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON to PATH")
    args = parser.parse_args(argv)
    if args.signup_users is None:
        args.signup_users = args.users
    if args.users < 1 or args.signup_users < 1 or args.workers < 1:
        parser.error("--users, --signup-users and --workers must be at least 1")
    if args.duration <= 0 or args.warmup < 0:
        parser.error("--duration must be positive and --warmup not negative")
    if args.url and (args.database_url or args.workers != 1 or args.keep_db):
        parser.error("--url uses a running server: --database-url, --workers and --keep-db do not apply")
    args.scenario_list = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    unknown = [name for name in args.scenario_list if name not in SCENARIOS]
    if unknown or not args.scenario_list:
        parser.error(f"unknown scenario(s) {', '.join(unknown) or '(none given)'}; known: {', '.join(SCENARIOS)}")
    return args


async def benchmark(info: ServerInfo, args: argparse.Namespace) -> list[Result]:
    factory = connection_factory(args.client, info.base_url, timeout=args.timeout)
    run_id = uuid.uuid4().hex[:12]
    meter = Meter(info.process_group)
    signup, users = await sign_up(factory, users=args.users, accounts=args.signup_users, run_id=run_id, meter=meter)
    results = [signup]
    try:
        for name in args.scenario_list:
            result = await run_scenario(
                name, SCENARIOS[name], users, duration=args.duration, warmup=args.warmup, meter=meter
            )
            results.append(result)
    finally:
        await asyncio.gather(*(ctx.conn.close() for ctx in users), return_exceptions=True)
    return results


def run_async(coro: Coroutine[Any, Any, list[Result]]) -> list[Result]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return asyncio.run(coro, loop_factory=uvloop.new_event_loop)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with server_under_test(args) as info:
        lines = header(info, args, args.scenario_list)
        print("\n".join(lines), flush=True)
        load_before = os.getloadavg()
        results = run_async(benchmark(info, args))
    print()
    print("\n".join(table(results)))
    if args.json:
        document = {
            "started_at": lines[0].split(", ", 1)[1],
            "machine": {
                "cpus": os.cpu_count(),
                "platform": platform.platform(),
                "python": platform.python_version(),
                "loadavg_before": load_before,
                "loadavg_after": os.getloadavg(),
                "caveat": MACHINE_CAVEAT,
            },
            "server": {
                "base_url": info.base_url,
                "started_here": info.started_here,
                "workers": info.workers,
                "database": info.database,
                "database_url": info.database_url,
            },
            "options": {
                "users": args.users,
                "signup_users": args.signup_users,
                "duration_s": args.duration,
                "warmup_s": args.warmup,
                "client": args.client,
                "scenarios": args.scenario_list,
            },
            "results": [r.as_dict() for r in results],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(document, indent=2) + "\n")
        print(f"\nresults written to {args.json}")
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
