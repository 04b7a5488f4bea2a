"""Throughput benchmark with `wrk`: the production stack under load, one table per database.

    # SQLite (embedded default) and PostgreSQL, 1 worker, every scenario: the whole table
    uv run python bench/wrk.py --database sqlite --database postgresql

    # 2 workers on PostgreSQL, reads only, rate limits in Redis
    uv run python bench/wrk.py --database postgresql --workers 2 --scenarios health,fast_active --redis-url redis://127.0.0.1:6379/15

The server runs as in production: rate limiting on (the product's limits, keyed per verified
caller), access logs on at INFO (sampled as configured), request ids, token and revocation checks.
To stay inside the per-person limits, the load is spread over `--users` signed-up people (1 000 by
default): a generated Lua script gives every request the next person's access token, the way many
phones poll one server. The API trusts `X-Forwarded-For` from loopback during the run, so the
sign-ups (limited per client address) and `/health` (limited per address) come from many addresses.

Scenarios: `health`, `fast_active` (`GET /time-keeper/windows/active?window_type=fast`, every person
has a running fast), `identity_me`, `progression_overview`, `workouts_list`
(`GET /content/workouts?limit=20`), and `mix`: 40 % active window, 20 % overview, 20 % workout list,
10 % `POST /metrics` (a weigh-in), 10 % `GET /identity/me`. The people are new by default, so each
weigh-in of the mix is someone's first ever (it unlocks achievements and sends their notifications);
with `--returning` they weighed in yesterday and the mix's weigh-ins are daily ones.

For each scenario it prints requests/s and latency percentiles (from wrk), non-2xx answers, and the
server's CPU time per request (user + system time of the server processes, read from /proc, divided
by the requests served): the figure that does not depend on how busy the load client was. wrk does
not time requests by path: the mix's per-endpoint latency (e.g. `POST /metrics` p99) comes from
`bench/load.py --scenarios mix`.

The machine is shared and noisy: compare ratios within one run (each scenario against `health`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import MACHINE_CAVEAT, ManagedServer, prepare_postgres

API = "/api/v1"
DEFAULT_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/ugoki_bench_wrk"

# name -> (method, path, weight) entries; one entry is a plain scenario.
SCENARIOS: dict[str, list[tuple[str, str, int]]] = {
    "health": [("GET", "/health", 1)],
    "fast_active": [("GET", f"{API}/time-keeper/windows/active?window_type=fast", 1)],
    "identity_me": [("GET", f"{API}/identity/me", 1)],
    "progression_overview": [("GET", f"{API}/progression/overview", 1)],
    "workouts_list": [("GET", f"{API}/content/workouts?limit=20", 1)],
    "mix": [
        ("GET", f"{API}/time-keeper/windows/active?window_type=fast", 4),
        ("GET", f"{API}/progression/overview", 2),
        ("GET", f"{API}/content/workouts?limit=20", 2),
        ("POST", f"{API}/metrics", 1),
        ("GET", f"{API}/identity/me", 1),
    ],
}
WEIGH_IN = '{"metric_type":"weight_kg","value":%s}'


@dataclass
class Outcome:
    scenario: str
    requests: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    non_2xx: int = 0
    socket_errors: int = 0
    latency_ms: dict[str, float] = field(default_factory=dict)
    cpu_ms_per_request: float | None = None


def lua_script(tokens: list[str], entries: list[tuple[str, str, int]]) -> str:
    """A wrk script: each request takes the next person's token (and, for /health, the next
    client address) and a path drawn by weight."""
    lines = ["local tokens = {" + ",".join(json.dumps(t) for t in tokens) + "}"]
    table = []
    for method, path, weight in entries:
        table.extend([f"{{{json.dumps(method)}, {json.dumps(path)}}}"] * weight)
    lines.append("local plan = {" + ",".join(table) + "}")
    lines.append(
        """
local n = 0
setup = function(thread)
  thread:set("offset", math.random(1, #tokens))
end
request = function()
  n = n + 1
  local i = ((n + offset) % #tokens) + 1
  local step = plan[(n % #plan) + 1]
  local headers = {["Authorization"] = "Bearer " .. tokens[i],
                   ["X-Forwarded-For"] = "10.77." .. (i % 250) .. "." .. (n % 250)}
  if step[1] == "POST" then
    headers["Content-Type"] = "application/json"
    local body = string.format('%s', 60 + (n % 300) / 10)
    return wrk.format("POST", step[2], headers, body)
  end
  return wrk.format("GET", step[2], headers)
end
""".replace("'%s'", "'" + WEIGH_IN.replace("%s", "%.1f") + "'")
    )
    return "\n".join(lines)


def server_cpu_seconds(group: int) -> float:
    """User + system CPU time of every process in the server's process group."""
    total = 0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # fields[2] is the pid's process group; utime, stime are fields 11 and 12 after ")".
        if int(fields[2]) == group:
            total += int(fields[11]) + int(fields[12])
    return total / tick


_UNIT = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        return float("nan")
    return float(match.group(1)) * _UNIT[match.group(2)]


def parse_wrk(output: str, outcome: Outcome) -> None:
    if m := re.search(r"(\d+) requests in ([\d.]+)(\w+)", output):
        outcome.requests = int(m.group(1))
        outcome.seconds = _ms(m.group(2) + m.group(3)) / 1000
    if m := re.search(r"Requests/sec:\s+([\d.]+)", output):
        outcome.rps = float(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        outcome.non_2xx = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        outcome.socket_errors = sum(int(g) for g in m.groups())
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.M):
        outcome.latency_ms[f"p{pct}"] = _ms(value)


def run_wrk(
    name: str, base_url: str, script: Path, *, connections: int, duration: float, threads: int, group: int | None
) -> Outcome:
    outcome = Outcome(name)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--latency",
        "--timeout",
        "10s",
        "-s",
        str(script),
        base_url,
    ]
    before = server_cpu_seconds(group) if group else None
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    after = server_cpu_seconds(group) if group else None
    parse_wrk(output, outcome)
    if before is not None and after is not None and outcome.requests:
        outcome.cpu_ms_per_request = (after - before) * 1000 / outcome.requests
    return outcome


async def prepare_people(base_url: str, count: int, *, returning: bool = False) -> list[str]:
    """Sign up `count` anonymous people (each from its own address), open a fast for each, and
    return their access tokens. `returning` people also weighed in yesterday, so a weigh-in of the
    mix is their daily one rather than their first ever (which also unlocks achievements and sends
    their notifications)."""
    tokens: list[str] = []
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        semaphore = asyncio.Semaphore(20)

        async def one(i: int) -> str:
            async with semaphore:
                address = {"X-Forwarded-For": f"10.66.{i // 250}.{i % 250}"}
                signed = await client.post(
                    f"{API}/identity/authenticate",
                    json={"provider": "anonymous", "token": f"wrk-{uuid.uuid4()}"},
                    headers=address,
                )
                signed.raise_for_status()
                token = str(signed.json()["access_token"])
                opened = await client.post(
                    f"{API}/time-keeper/windows",
                    json={"window_type": "fast", "planned_duration_minutes": 16 * 60},
                    headers={"Authorization": f"Bearer {token}", **address},
                )
                opened.raise_for_status()
                if returning:
                    yesterday = (datetime.now(UTC) - timedelta(days=1)).isoformat()
                    weighed = await client.post(
                        f"{API}/metrics",
                        json={"metric_type": "weight_kg", "value": 72.0, "timestamp": yesterday},
                        headers={"Authorization": f"Bearer {token}", **address},
                    )
                    weighed.raise_for_status()
                return token

        tokens = list(await asyncio.gather(*(one(i) for i in range(count))))
    return tokens


def production_env(args: argparse.Namespace) -> dict[str, str]:
    env = {
        "RATE_LIMIT_ENABLED": "true",
        "LOG_LEVEL": "INFO",
        "TRUSTED_PROXIES": "127.0.0.1",
    }
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    return env


def measure_database(database: str, args: argparse.Namespace) -> tuple[str, list[Outcome]]:
    scenarios = args.scenarios.split(",")
    with tempfile.TemporaryDirectory(prefix="ugoki-wrk-") as tmp:
        data_dir = Path(tmp)
        url = args.postgres_url if database == "postgresql" else f"sqlite+aiosqlite:///{data_dir / 'bench.db'}"
        if database == "postgresql":
            asyncio.run(prepare_postgres(make_url(url), keep=False))
        server = ManagedServer(
            database_url=url,
            workers=args.workers,
            data_dir=data_dir,
            startup_timeout=120,
            env=production_env(args),
        )
        server.start()
        try:
            tokens = asyncio.run(prepare_people(server.base_url, args.users, returning=args.returning))
            outcomes = []
            for name in scenarios:
                script = data_dir / f"{name}.lua"
                script.write_text(lua_script(tokens, SCENARIOS[name]))
                # Warm-up: caches, pools, JIT-free Python's first-call paths.
                run_wrk(name, server.base_url, script, connections=args.connections, duration=2, threads=2, group=None)
                outcomes.append(
                    run_wrk(
                        name,
                        server.base_url,
                        script,
                        connections=args.connections,
                        duration=args.duration,
                        threads=2,
                        group=server.pid,
                    )
                )
            return url, outcomes
        finally:
            server.stop()


def table(database: str, outcomes: list[Outcome]) -> list[str]:
    health = next((o.rps for o in outcomes if o.scenario == "health"), None)
    lines = [
        f"{'scenario':<22}{'req/s':>9}{'vs health':>10}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}"
        f"{'non-2xx':>9}{'cpu ms/req':>11}",
        "-" * 88,
    ]
    for o in outcomes:
        ratio = f"{o.rps / health:.3f}" if health else "-"
        cpu = f"{o.cpu_ms_per_request:.3f}" if o.cpu_ms_per_request is not None else "-"
        lines.append(
            f"{o.scenario:<22}{o.rps:>9.0f}{ratio:>10}{o.latency_ms.get('p50', float('nan')):>9.2f}"
            f"{o.latency_ms.get('p90', float('nan')):>9.2f}{o.latency_ms.get('p99', float('nan')):>9.2f}"
            f"{o.non_2xx + o.socket_errors:>9}{cpu:>11}"
        )
    return [f"database: {database}", *lines]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", action="append", choices=["sqlite", "postgresql"], help="repeatable")
    parser.add_argument("--postgres-url", default=DEFAULT_PG, help="dropped and recreated (name must contain bench)")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--users", type=int, default=1000, help="signed-up people whose tokens rotate")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument(
        "--returning",
        action="store_true",
        help="the people weighed in yesterday: the mix's weigh-ins are daily ones, not each person's first",
    )
    parser.add_argument("--redis-url", default=None, help="keep rate limits in Redis (as with several workers)")
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON")
    args = parser.parse_args(argv)
    args.database = args.database or ["sqlite", "postgresql"]
    unknown = set(args.scenarios.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk); bench/load.py needs no wrk")
    print(f"UGOKI wrk benchmark, {datetime.now(UTC).isoformat(timespec='seconds')}")
    print(f"machine: {os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"         {MACHINE_CAVEAT}")
    print(
        f"server:  {args.workers} worker(s), rate limits on ({'Redis' if args.redis_url else 'in memory'}), "
        f"logs at INFO; wrk 2 threads, {args.connections} connections, {args.duration:g} s per scenario, "
        f"{args.users} {'returning' if args.returning else 'new'} people"
    )
    report: dict[str, Any] = {"measured_at": datetime.now(UTC).isoformat(), "args": vars(args) | {"json": None}}
    failed = False
    for database in args.database:
        started = time.perf_counter()
        _, outcomes = measure_database(database, args)
        print()
        print("\n".join(table(database, outcomes)))
        print(f"({time.perf_counter() - started:.0f} s)")
        report[database] = [vars(o) for o in outcomes]
        failed = failed or any(o.non_2xx or o.socket_errors for o in outcomes)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
