"""The summary and the counts are read from per-day and per-month counts kept with every append:
whatever the period (whole months, single days, parts of days, unbounded), they answer what a
scan of every event gives, after appends (also concurrent ones), retention purges, erasure and
anonymisation."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from src.core.uow import UnitOfWork
from src.modules.event_journal import EventSource, EventType, event_journal
from src.modules.event_journal.manifest import purge_older_than
from src.modules.event_journal.orm import ActivityEventCountRow, ActivityEventRow
from tests.event_journal.conftest import EVENTS
from tests.factories import User, anonymous_user
from tests.http import ok

E = EventType
KINDS = (E.FAST_COMPLETED, E.WORKOUT_COMPLETED, E.WEIGHT_LOGGED, E.XP_EARNED)
# 2025-11-30 .. 2026-03-09: across two month ends and a year end; the clock stands at 2026-03-10 12:00.
FIRST = datetime(2025, 11, 30, 21, 0, tzinfo=UTC)


def history() -> list[tuple[EventType, datetime]]:
    """About 400 events, some every 6 h 17 min (so at every hour of the day over the weeks), and
    some right at and around midnights that start a month."""
    events = [(KINDS[i % len(KINDS)], FIRST + timedelta(hours=6, minutes=17) * i) for i in range(380)]
    for month_start in (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)):
        for offset in (timedelta(0), timedelta(microseconds=-1), timedelta(seconds=1)):
            events.append((E.LOGIN, month_start + offset))
    return events


async def record_all(app: FastAPI, user: User, events: list[tuple[EventType, datetime]]) -> None:
    async with app.state.sessions.writer() as session:
        journal = event_journal(UnitOfWork(session=session, resources=app.state.resources))
        for kind, at in events:
            await journal.record(uuid.UUID(user.id), kind, source=EventSource.SYSTEM, occurred_at=at)
        await session.commit()


async def every_event(client: httpx.AsyncClient, user: User) -> list[dict[str, Any]]:
    return ok(await client.get(f"{EVENTS}/export/all", headers=user.headers))  # type: ignore[no-any-return]


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def scanned(events: list[dict[str, Any]], start: datetime | None, end: datetime | None) -> dict[str, Any]:
    """The summary's answer computed from every event."""
    inside = [
        e
        for e in events
        if (start is None or instant(e["timestamp"]) >= start) and (end is None or instant(e["timestamp"]) < end)
    ]
    return {
        "total_events": len(inside),
        "events_by_category": dict(Counter(e["category"] for e in inside)),
        "events_by_type": dict(Counter(e["event_type"] for e in inside)),
    }


async def summary(client: httpx.AsyncClient, user: User, start: datetime, end: datetime) -> dict[str, Any]:
    params = {"start_time": start.isoformat(), "end_time": end.isoformat()}
    body = ok(await client.get(f"{EVENTS}/summary", params=params, headers=user.headers))
    return {key: body[key] for key in ("total_events", "events_by_category", "events_by_type")}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


PERIODS = [
    (utc(2000, 1, 1), utc(2100, 1, 1)),  # everything
    (utc(2026, 1, 1), utc(2026, 2, 1)),  # one whole month
    (utc(2025, 12, 1), utc(2026, 3, 1)),  # whole months across a year end
    (utc(2025, 12, 14, 5, 30), utc(2026, 2, 20, 17, 45)),  # parts of days, days, months
    (utc(2025, 12, 31, 23, 59, 59), utc(2026, 1, 1, 0, 0, 1)),  # two seconds around a month start
    (utc(2026, 1, 1), utc(2026, 1, 2)),  # one whole day
    (utc(2026, 1, 10, 3), utc(2026, 1, 10, 19)),  # part of a day
    (utc(2026, 1, 10, 3), utc(2026, 1, 12, 19)),  # parts of two days around a whole one
    (utc(2026, 1, 20), utc(2026, 2, 3, 12)),  # whole days across a month end, then part of a day
    (utc(2025, 12, 1, 0, 0, 1), utc(2026, 1, 31, 23, 59, 59)),  # a second short of two months on each side
    (datetime(2026, 1, 1, tzinfo=UTC) - timedelta(hours=1), utc(2026, 2, 1, 1)),  # an offset month
]


async def test_the_summary_of_any_period_equals_a_scan_of_every_event(app: FastAPI, client: httpx.AsyncClient) -> None:
    user, other = await anonymous_user(app), await anonymous_user(app)
    await record_all(app, user, history())
    await record_all(app, other, history()[:50])
    events = await every_event(client, user)
    assert len(events) > 380
    for start, end in PERIODS:
        assert await summary(client, user, start, end) == scanned(events, start, end), (start, end)


async def test_a_summary_in_another_time_zone_counts_the_same_events(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await record_all(app, user, history())
    events = await every_event(client, user)
    params = {"start_time": "2026-01-01T00:00:00+05:30", "end_time": "2026-02-01T00:00:00-08:00"}
    body = ok(await client.get(f"{EVENTS}/summary", params=params, headers=user.headers))
    expected = scanned(events, instant(params["start_time"]), instant(params["end_time"]))
    assert body["total_events"] == expected["total_events"]
    assert body["events_by_type"] == expected["events_by_type"]


@pytest.mark.parametrize(
    ("start", "end"),
    [(None, None), ("2026-01-15T06:00:00Z", None), (None, "2026-02-01T00:00:00Z"), ("2025-12-31T12:00:00Z", None)],
)
async def test_the_count_of_a_type_equals_a_scan(
    app: FastAPI, client: httpx.AsyncClient, start: str | None, end: str | None
) -> None:
    user = await anonymous_user(app)
    await record_all(app, user, history())
    events = await every_event(client, user)
    params = {"event_type": "login"} | ({"start_time": start} if start else {}) | ({"end_time": end} if end else {})
    body = ok(await client.get(f"{EVENTS}/count", params=params, headers=user.headers))
    expected = scanned(events, instant(start) if start else None, instant(end) if end else None)
    assert body == {"event_type": "login", "count": expected["events_by_type"]["login"]}


async def test_events_recorded_at_the_same_time_are_all_counted(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    before = ok(await client.get(f"{EVENTS}/count", params={"event_type": "app_opened"}, headers=user.headers))

    async def app_opened() -> None:
        response = await client.post(EVENTS, json={"event_type": "app_opened"}, headers=user.headers)
        assert response.status_code == 201, response.text

    await asyncio.gather(*(app_opened() for _ in range(12)))

    after = ok(await client.get(f"{EVENTS}/count", params={"event_type": "app_opened"}, headers=user.headers))
    assert after["count"] - before["count"] == 12
    today = await summary(client, user, utc(2026, 3, 10), utc(2026, 3, 11))
    assert today == scanned(await every_event(client, user), utc(2026, 3, 10), utc(2026, 3, 11))


async def purge(app: FastAPI, cutoff: datetime) -> int:
    async with app.state.sessions.writer() as session:
        purged = await purge_older_than(UnitOfWork(session=session, resources=app.state.resources), cutoff)
        await session.commit()
    return purged


@pytest.mark.parametrize(
    "cutoff",
    [utc(2026, 1, 17, 13, 30), utc(2026, 2, 1), utc(2026, 1, 1, 0, 0, 0, 500_000)],
    ids=["mid-day", "month start", "just after a month start"],
)
async def test_a_retention_purge_leaves_counts_that_equal_a_scan(
    app: FastAPI, client: httpx.AsyncClient, cutoff: datetime
) -> None:
    user = await anonymous_user(app)
    await record_all(app, user, history())
    before = await every_event(client, user)

    purged = await purge(app, cutoff)

    events = await every_event(client, user)
    assert purged == len(before) - len(events) > 0
    assert all(instant(e["timestamp"]) >= cutoff for e in events)
    for start, end in PERIODS:
        assert await summary(client, user, start, end) == scanned(events, start, end), (start, end)
    # Appends after the purge, also on the day it cut, add to what it left.
    await record_all(app, user, [(E.LOGIN, cutoff + timedelta(minutes=1)), (E.LOGIN, utc(2026, 3, 10, 8))])
    events = await every_event(client, user)
    for start, end in PERIODS:
        assert await summary(client, user, start, end) == scanned(events, start, end), (start, end)


async def count_rows(app: FastAPI, identity_id: uuid.UUID) -> list[tuple[str, str, str, int]]:
    """The stored counts of an identity (no endpoint shows them): (period, start, type, events)."""
    c = ActivityEventCountRow
    async with app.state.sessions.reader() as session:
        rows = await session.execute(
            select(c.period, c.period_start, c.event_type, c.events).where(c.identity_id == identity_id)
        )
        return sorted((period, str(start), kind, events) for period, start, kind, events in rows)


async def test_erasing_the_events_erases_their_counts(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await record_all(app, user, history())
    assert await count_rows(app, uuid.UUID(user.id))

    ok(await client.delete(f"{EVENTS}/gdpr/delete", headers=user.headers))

    assert await count_rows(app, uuid.UUID(user.id)) == []
    assert (await summary(client, user, utc(2000, 1, 1), utc(2100, 1, 1)))["total_events"] == 0


async def test_anonymised_events_keep_their_counts_under_the_new_id(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await record_all(app, user, history())
    counts = await count_rows(app, uuid.UUID(user.id))

    body = ok(await client.post(f"{EVENTS}/gdpr/anonymize", headers=user.headers))

    assert await count_rows(app, uuid.UUID(user.id)) == []
    replacement = uuid.UUID(body["identity_id"])
    assert await count_rows(app, replacement) == counts
    async with app.state.sessions.reader() as session:
        kinds = Counter(
            (
                await session.execute(
                    select(ActivityEventRow.event_type).where(ActivityEventRow.identity_id == replacement)
                )
            )
            .scalars()
            .all()
        )
    by_type: Counter[str] = Counter()
    for period, _, kind, n in counts:
        if period == "month":
            by_type[kind] += n
    assert by_type == kinds


async def test_erasing_the_account_leaves_no_counts(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await record_all(app, user, history()[:20])

    ok(await client.delete("/api/v1/profile/all-data", params={"confirm": "true"}, headers=user.headers))

    assert await count_rows(app, uuid.UUID(user.id)) == []


async def test_events_of_a_rolled_back_savepoint_or_transaction_are_not_counted(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """A producing module may record inside a savepoint that fails (e.g. a rejected row of an
    import) or in a transaction that is rolled back: only what commits is counted."""
    user = await anonymous_user(app)
    identity = uuid.UUID(user.id)
    at = utc(2026, 3, 9, 10)
    async with app.state.sessions.writer() as session:
        journal = event_journal(UnitOfWork(session=session, resources=app.state.resources))
        await journal.record(identity, E.LOGIN, occurred_at=at)
        try:
            async with session.begin_nested():
                await journal.record(identity, E.LOGIN, occurred_at=at)
                await session.flush()
                raise LookupError("a row of the import is refused")
        except LookupError:
            pass
        async with session.begin_nested():
            await journal.record(identity, E.LOGIN, occurred_at=at)
        await session.commit()
    async with app.state.sessions.writer() as session:
        journal = event_journal(UnitOfWork(session=session, resources=app.state.resources))
        await journal.record(identity, E.LOGIN, occurred_at=at)
        await session.flush()
        await session.rollback()

    events = await every_event(client, user)
    assert sum(e["event_type"] == "login" and instant(e["timestamp"]) == at for e in events) == 2
    for start, end in [(utc(2026, 3, 1), utc(2026, 4, 1)), (utc(2026, 3, 9), utc(2026, 3, 10))]:
        assert await summary(client, user, start, end) == scanned(events, start, end)


@pytest.mark.parametrize("operation", ["erase", "anonymize"])
async def test_events_recorded_in_the_transaction_that_erases_or_anonymises_follow_the_others(
    app: FastAPI, client: httpx.AsyncClient, operation: str
) -> None:
    from src.modules.event_journal.service import EventJournalService

    user = await anonymous_user(app)
    identity = uuid.UUID(user.id)
    await record_all(app, user, history()[:30])
    replacement = uuid.uuid4()
    async with app.state.sessions.writer() as session:
        uow = UnitOfWork(session=session, resources=app.state.resources)
        await event_journal(uow).record(identity, E.LOGIN)  # e.g. written by a module erased earlier
        service = EventJournalService(uow)
        await (service.erase(identity) if operation == "erase" else service.anonymize(identity, replacement))
        await session.commit()

    assert await count_rows(app, identity) == []
    async with app.state.sessions.reader() as session:
        kinds = Counter(
            (
                await session.execute(
                    select(ActivityEventRow.event_type).where(ActivityEventRow.identity_id == replacement)
                )
            )
            .scalars()
            .all()
        )
    by_type: Counter[str] = Counter()
    for period, _, kind, n in await count_rows(app, replacement):
        if period == "day":
            by_type[kind] += n
    assert by_type == kinds
    assert (kinds["login"] > 0) == (operation == "anonymize")
