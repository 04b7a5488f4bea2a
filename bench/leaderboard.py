"""Leaderboard benchmark: `GET /api/v1/social/leaderboards/global_xp?period=week&limit=100` over a
PostgreSQL database seeded with many people and a year of XP ledger history.

    # seed 100 000 people (drops and recreates the database), then measure
    uv run python bench/leaderboard.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/ugoki_bench_social

    # measure again on the seeded database
    uv run python bench/leaderboard.py --database-url ... --keep-db --requests 1000

Seeding writes, with set-based SQL: a public or private social profile per person (70 % public),
`--ledger-rows` XP ledger rows per person spread over the past year, their levels, and the
per-period totals the social module keeps (what the crediting transaction maintains in
production), computed here in one pass from the seeded ledger (in UTC; seeded people have no
time-zone preference).

Measuring runs the real app in this process (no network, no load client): each request goes
through routing, authentication, the rate limiter and the unit of work, and the time reported is
the app's own time from request to response, i.e. server time. The caller is a signed-in person
without XP this week, so `my_rank` counts everyone ahead of them: the most expensive rank query.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

SEED_SQL = [
    # Social profiles: 70 % public, every one showing their level.
    """
    INSERT INTO social_profiles (identity_id, username, username_key, bio, friend_code, profile_public,
        show_streaks, show_achievements, show_level, show_workouts, show_weight, friends_count,
        followers_count, following_count, created_at, updated_at)
    SELECT md5('bench-' || g)::uuid, 'bench_' || g, 'bench_' || g, NULL,
        upper(lpad(to_hex(g), 8, '0')), (g % 10) < 7, true, true, true, false, false, 0, 0, 0, now(), now()
    FROM generate_series(1, :people) AS g
    """,
    """
    INSERT INTO user_profiles (identity_id, display_name, created_at, updated_at)
    SELECT md5('bench-' || g)::uuid, 'Bench Person ' || g, now(), now() FROM generate_series(1, :people) AS g
    """,
    # A year of ledger history: each row at a pseudo-random instant of the past 365 days.
    """
    INSERT INTO xp_transactions (id, identity_id, amount, transaction_type, description, related_id,
        source_key, activity_day, created_at)
    SELECT gen_random_uuid(), md5('bench-' || g)::uuid, (ARRAY[25, 50, 75, 100, 150, 30, 45, 60])[1 + (g + r) % 8],
        'fast_completed', NULL, NULL, 'bench:' || g || ':' || r, NULL,
        now() - make_interval(secs => ((hashint4(g * 131 + r) & 2147483647) % (365 * 86400)))
    FROM generate_series(1, :people) AS g, generate_series(1, :rows) AS r
    """,
    """
    INSERT INTO user_levels (identity_id, total_xp, current_level, created_at, updated_at)
    SELECT identity_id, sum(amount), 1, now(), now() FROM xp_transactions GROUP BY identity_id
    """,
    """
    INSERT INTO social_members (identity_id, profile_public, show_level, show_streaks, updated_at)
    SELECT identity_id, profile_public, show_level, show_streaks, now() FROM social_profiles
    """,
    # The totals the social module keeps per period (weeks start on Monday: date_trunc('week')).
    """
    INSERT INTO social_xp_totals (period, period_start, identity_id, xp, listed)
    SELECT t.period, t.period_start, t.identity_id, t.xp, m.profile_public AND m.show_level
    FROM (
        SELECT 'week' AS period, date_trunc('week', created_at AT TIME ZONE 'UTC')::date AS period_start,
            identity_id, sum(amount) AS xp FROM xp_transactions GROUP BY 2, 3
        UNION ALL
        SELECT 'month', date_trunc('month', created_at AT TIME ZONE 'UTC')::date, identity_id, sum(amount)
            FROM xp_transactions GROUP BY 2, 3
        UNION ALL
        SELECT 'all', DATE '1970-01-01', identity_id, sum(amount) FROM xp_transactions GROUP BY 3
    ) AS t JOIN social_members AS m ON m.identity_id = t.identity_id
    """,
    "VACUUM ANALYZE",
]


async def reset_database(url: str) -> None:
    parsed = make_url(url)
    name = parsed.database or ""
    if "bench" not in name or not name.replace("_", "").isalnum():
        raise SystemExit("refusing: the benchmark database name must contain 'bench' (letters, digits, _)")
    if parsed.host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("refusing a database server that is not on loopback")
    admin = create_async_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    await admin.dispose()


async def seed(url: str, *, people: int, rows: int) -> None:
    from src.core.migrations import upgrade_to_head

    await upgrade_to_head(url, lock_path=Path("/tmp") / f".bench-migrate-{os.getpid()}.lock")  # noqa: S108
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")  # VACUUM runs outside a transaction
    async with engine.connect() as conn:
        for statement in SEED_SQL:
            started = time.perf_counter()
            await conn.execute(text(statement), {"people": people, "rows": rows})
            first = " ".join(statement.split())[:60]
            print(f"  {time.perf_counter() - started:7.1f} s  {first}")
        counts = (
            await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM xp_transactions), (SELECT count(*) FROM social_xp_totals), "
                    "(SELECT count(*) FROM social_xp_totals WHERE period = 'week' "
                    "AND period_start = date_trunc('week', now() AT TIME ZONE 'UTC')::date AND listed)"
                )
            )
        ).one()
    await engine.dispose()
    print(f"  ledger rows {counts[0]}, per-period totals {counts[1]}, listed this week {counts[2]}")


async def measure(url: str, *, requests: int, warmup: int, limit: int, caller_xp: int = 0) -> dict[str, Any]:
    from src.core.settings import Settings
    from src.database import create_engine
    from src.main import create_app

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        environment="development",
        database_url=url,
        rate_limit_enabled=False,
        outbox_enabled=False,
        seed_on_startup=False,
        log_level="WARNING",
    )
    engine = create_engine(settings)
    app = create_app(settings, engine=engine)
    statements: list[int] = []
    sql_times: list[float] = []
    counter = [0]
    sql = [0.0, 0.0]  # total seconds in statements, start of the running one

    def before(*_args: Any) -> None:
        counter[0] += 1
        sql[1] = time.perf_counter()

    def after(*_args: Any) -> None:
        sql[0] += time.perf_counter() - sql[1]

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    event.listen(engine.sync_engine, "after_cursor_execute", after)
    path = f"/api/v1/social/leaderboards/global_xp?period=week&limit={limit}"
    timings: list[float] = []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            signed = await client.post(
                "/api/v1/identity/authenticate", json={"provider": "anonymous", "token": f"bench-{time.time()}"}
            )
            signed.raise_for_status()
            headers = {"Authorization": f"Bearer {signed.json()['access_token']}"}
            if caller_xp:  # put the caller on this week's board with that much XP (a top caller: few ahead)
                async with engine.begin() as conn:
                    await conn.execute(
                        text(
                            "INSERT INTO social_xp_totals (period, period_start, identity_id, xp, listed) VALUES "
                            "('week', date_trunc('week', now() AT TIME ZONE 'UTC')::date, :id, :xp, false)"
                        ),
                        {"id": signed.json()["identity"]["id"], "xp": caller_xp},
                    )
            body: dict[str, Any] = {}
            for index in range(warmup + requests):
                counter[0] = 0
                sql[0] = 0.0
                started = time.perf_counter()
                response = await client.get(path, headers=headers)
                elapsed = (time.perf_counter() - started) * 1000
                response.raise_for_status()
                if index >= warmup:
                    timings.append(elapsed)
                    statements.append(counter[0])
                    sql_times.append(sql[0] * 1000)
                body = response.json()
    await engine.dispose()

    def pct(values: list[float], p: float) -> float:
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(len(ordered) * p))], 2)

    return {
        "request": f"GET {path}",
        "requests": len(timings),
        "p50_ms": pct(timings, 0.50),
        "p95_ms": pct(timings, 0.95),
        "p99_ms": pct(timings, 0.99),
        "sql_p50_ms": pct(sql_times, 0.50),
        "sql_p95_ms": pct(sql_times, 0.95),
        "mean_ms": round(statistics.fmean(timings), 2),
        "max_ms": round(max(timings), 2),
        "statements_per_request": sorted(set(statements)),
        "entries": len(body.get("entries", [])),
        "my_rank": body.get("my_rank"),
        "caller_xp": caller_xp,
        "measured_at": datetime.now(UTC).isoformat(),
        "load_average": os.getloadavg(),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="postgresql+asyncpg://... (name must contain 'bench')")
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--ledger-rows", type=int, default=36, help="XP ledger rows per person over the year")
    parser.add_argument("--keep-db", action="store_true", help="measure the database as it is (no seeding)")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument(
        "--caller-xp", type=int, default=0, help="XP the caller has this week (0: everyone listed is ahead of them)"
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        raise SystemExit("this benchmark targets PostgreSQL")
    if not args.keep_db:
        await reset_database(args.database_url)
        print(f"seeding {args.people} people x {args.ledger_rows} ledger rows")
        await seed(args.database_url, people=args.people, rows=args.ledger_rows)
    results = await measure(
        args.database_url, requests=args.requests, warmup=args.warmup, limit=args.limit, caller_xp=args.caller_xp
    )
    print(json.dumps(results, indent=2))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
