"""Which streak days an activity counts for, and what one day can earn: a fast counts for the days
it covers, fasting XP per day is capped at what one long fast earns, and a time-zone change does
not open a second weigh-in day."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from src.modules.progression.rules import fast_streak_days
from tests.factories import anonymous_user, fresh_token
from tests.progression.helpers import (
    feed_types,
    ledger_amounts,
    log_fast,
    log_weight,
    set_timezone,
    streak,
    utc,
)

NEW_YORK = ZoneInfo("America/New_York")


def ny(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=NEW_YORK)


async def test_a_saturday_to_sunday_fast_counts_for_saturday_too_and_keeps_the_week_streak(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    clock.set(ny(3, 15, 12))  # Sunday noon in New York
    user = await anonymous_user(app)
    await set_timezone(client, user, "America/New_York")
    for day in range(9, 14):  # Monday 9 … Friday 13 March: 16:8 fasts from 20:00 to noon
        await log_fast(client, user, ny(3, day - 1, 20), ny(3, day, 12))
    # 20:4 from Saturday 09:00 to Sunday 05:00: 19 h of Saturday's streak day, 1 h of Sunday's.
    closed = await log_fast(client, user, ny(3, 14, 9), ny(3, 15, 5))
    assert closed["streak"]["current_count"] == 7
    body = await streak(client, user)
    assert body["current_count"] == 7
    assert body["last_activity_date"] == "2026-03-15"
    assert not [e for e in await feed_types(client, user) if e["event_type"] == "streak_reset"]


def test_fast_streak_days_are_the_end_day_and_every_day_the_fast_ran_most_of() -> None:
    zone = "America/New_York"
    # 16:8 from 20:00 to noon: 8 h of the evening's day, so only the day it ended.
    assert [d.day for d in fast_streak_days(ny(3, 9, 20), ny(3, 10, 12), zone)] == [10]
    # Saturday 09:00 → Sunday 05:00: Saturday (19 h) and Sunday (its end).
    assert [d.day for d in fast_streak_days(ny(3, 14, 9), ny(3, 15, 5), zone)] == [14, 15]
    # A 72 h fast from Monday 08:00: Monday, Tuesday, Wednesday and Thursday (its end).
    assert [d.day for d in fast_streak_days(ny(3, 9, 8), ny(3, 12, 8), zone)] == [9, 10, 11, 12]
    # Ending at 03:00 belongs to the day before (04:00 day start), as it always did.
    assert [d.day for d in fast_streak_days(ny(3, 9, 13), ny(3, 10, 3), zone)] == [9]


async def test_two_fasts_ending_on_one_day_earn_no_more_than_one_long_fast(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    clock.set(utc(3, 12, 12))
    user = await anonymous_user(app)
    # Both end on the 11 March streak day (04:00 to 04:00 UTC), an hour apart from each other.
    first = await log_fast(client, user, utc(3, 10, 8, 30), utc(3, 11, 4, 30))  # 20 h: 100 XP
    second = await log_fast(client, user, utc(3, 11, 5, 30), utc(3, 12, 1, 30))  # 20 h: capped at 50
    assert first["base_xp"] == 100
    assert second["base_xp"] == 50
    assert "150" in second["credit_reason"]
    assert await ledger_amounts(client, user, "fast_completed") == [50, 100]


async def test_a_time_zone_change_does_not_pay_the_daily_weigh_in_twice(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    clock.set(utc(3, 10, 10))
    user = await anonymous_user(app)
    first = await log_weight(app, user, utc(3, 10, 10))  # 10 March in UTC
    assert first is not None
    assert first.base_xp == 10
    clock.set(utc(3, 10, 15))  # 05:00 on 11 March in Kiritimati (UTC+14), still 10 March in UTC
    await fresh_token(app, user)
    await set_timezone(client, user, "Pacific/Kiritimati")
    second = await log_weight(app, user, utc(3, 10, 15))
    assert second is not None
    assert second.xp_earned == 0
    assert second.credited is False
    # The next real day pays again.
    clock.set(utc(3, 11, 15))
    await fresh_token(app, user)
    third = await log_weight(app, user, utc(3, 11, 15))
    assert third is not None
    assert third.base_xp == 10
    assert await ledger_amounts(client, user, "weight_logged") == [10, 10]
