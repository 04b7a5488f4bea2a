"""Reminders fall due at their local time and are dropped when no longer true."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from src.core.clock import FrozenClock
from tests.factories import User, anonymous_user, fresh_token
from tests.notification.fake_expo import FakeExpo
from tests.notification.helpers import (
    PROFILE_PREFERENCES,
    WINDOWS,
    complete_fast,
    deliver,
    ok,
    register_device,
    set_preferences,
    set_timezone,
)

TOKEN = "ExponentPushToken[reminder-phone]"


def titles(expo: FakeExpo) -> list[str]:
    return [str(m["title"]) for m in expo.received]


async def at(app: FastAPI, clock: FrozenClock, user: User, when: datetime) -> User:
    """Move the clock to `when`, run the worker, and sign the person in again."""
    clock.set(when)
    await deliver(app)
    return await fresh_token(app, user)


async def start_fast_in_paris_at_8(app: FastAPI, client: AsyncClient, clock: FrozenClock) -> tuple[User, str]:
    clock.set(datetime(2026, 3, 10, 7, 0, tzinfo=UTC))  # 08:00 in Paris (UTC+1 in March)
    user = await anonymous_user(app)
    await set_timezone(client, user, "Europe/Paris")
    await register_device(client, user, TOKEN)
    fast = ok(await client.post(WINDOWS, headers=user.headers, json={"window_type": "fast", "protocol": "16:8"}), 201)
    return user, fast["id"]


async def test_a_16_hour_fast_started_at_8_gets_its_30_minutes_left_push_at_23_30_local(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user, _ = await start_fast_in_paris_at_8(app, client, clock)
    await deliver(app)
    assert titles(expo) == []
    user = await at(app, clock, user, datetime(2026, 3, 10, 22, 29, tzinfo=UTC))  # 23:29 local
    assert titles(expo) == []
    user = await at(app, clock, user, datetime(2026, 3, 10, 22, 30, tzinfo=UTC))  # 23:30 local
    assert titles(expo) == ["30 minutes to go"]
    await at(app, clock, user, datetime(2026, 3, 10, 23, 0, tzinfo=UTC))  # midnight local: the goal
    assert titles(expo) == ["30 minutes to go", "Fast goal reached"]


async def test_no_fast_reminder_once_the_fast_ended_at_20(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user, fast_id = await start_fast_in_paris_at_8(app, client, clock)
    clock.set(datetime(2026, 3, 10, 19, 0, tzinfo=UTC))  # 20:00 local
    user = await fresh_token(app, user)
    ok(await client.post(f"{WINDOWS}/{fast_id}/close", headers=user.headers))
    await at(app, clock, user, datetime(2026, 3, 11, 2, 0, tzinfo=UTC))
    assert "30 minutes to go" not in titles(expo)
    assert "Fast goal reached" not in titles(expo)


async def test_a_pause_moves_the_reminder_to_the_new_end(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user, fast_id = await start_fast_in_paris_at_8(app, client, clock)
    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    user = await fresh_token(app, user)
    ok(await client.post(f"{WINDOWS}/{fast_id}/pause", headers=user.headers))
    clock.set(datetime(2026, 3, 10, 10, 0, tzinfo=UTC))  # an hour's pause
    user = await fresh_token(app, user)
    ok(await client.post(f"{WINDOWS}/{fast_id}/resume", headers=user.headers))
    user = await at(app, clock, user, datetime(2026, 3, 10, 22, 30, tzinfo=UTC))  # the old 23:30
    assert titles(expo) == []
    await at(app, clock, user, datetime(2026, 3, 10, 23, 30, tzinfo=UTC))  # the new 00:30
    assert titles(expo) == ["30 minutes to go"]


async def two_day_fasting_streak(app: FastAPI, client: AsyncClient, clock: FrozenClock) -> User:
    clock.set(datetime(2026, 3, 9, 12, 0, tzinfo=UTC))
    user = await anonymous_user(app)
    await complete_fast(client, user, clock.now() - timedelta(hours=13))
    clock.set(datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
    user = await fresh_token(app, user)
    await complete_fast(client, user, clock.now() - timedelta(hours=13))
    await register_device(client, user, TOKEN)
    return user


async def test_streak_at_risk_at_20_local_on_a_day_without_activity(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user = await two_day_fasting_streak(app, client, clock)
    await at(app, clock, user, datetime(2026, 3, 11, 19, 59, tzinfo=UTC))
    assert "Keep your streak alive" not in titles(expo)
    await at(app, clock, user, datetime(2026, 3, 11, 20, 0, tzinfo=UTC))
    assert titles(expo).count("Keep your streak alive") == 1
    body = next(m["body"] for m in expo.received if m["title"] == "Keep your streak alive")
    assert "2-day fasting streak" in str(body)


async def test_no_streak_reminder_when_the_days_activity_is_done(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user = await two_day_fasting_streak(app, client, clock)
    clock.set(datetime(2026, 3, 11, 12, 0, tzinfo=UTC))
    user = await fresh_token(app, user)
    await complete_fast(client, user, clock.now() - timedelta(hours=13))
    await at(app, clock, user, datetime(2026, 3, 11, 20, 30, tzinfo=UTC))
    assert "Keep your streak alive" not in titles(expo)


async def test_no_streak_reminder_for_a_one_day_streak(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user = await anonymous_user(app)
    await register_device(client, user, TOKEN)
    await complete_fast(client, user, clock.now() - timedelta(hours=13))
    await at(app, clock, user, clock.now() + timedelta(days=1, hours=9))
    assert "Keep your streak alive" not in titles(expo)


async def test_daily_motivation_at_the_chosen_time_and_a_change_voids_the_old_time(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user = await anonymous_user(app)  # now: 2026-03-10 12:00 UTC, zone UTC
    await register_device(client, user, TOKEN)
    await set_preferences(client, user, daily_motivation_time="08:00")
    user = await at(app, clock, user, datetime(2026, 3, 11, 8, 0, tzinfo=UTC))
    assert titles(expo) == ["Daily motivation"]
    await set_preferences(client, user, daily_motivation_time="09:00")
    user = await at(app, clock, user, datetime(2026, 3, 11, 9, 0, tzinfo=UTC))
    assert titles(expo) == ["Daily motivation"] * 2
    user = await at(app, clock, user, datetime(2026, 3, 12, 8, 0, tzinfo=UTC))  # the old time: nothing
    assert titles(expo) == ["Daily motivation"] * 2
    user = await at(app, clock, user, datetime(2026, 3, 12, 9, 0, tzinfo=UTC))
    assert titles(expo) == ["Daily motivation"] * 3
    await set_preferences(client, user, daily_motivation_time=None)
    await at(app, clock, user, datetime(2026, 3, 13, 9, 0, tzinfo=UTC))
    assert titles(expo) == ["Daily motivation"] * 3


async def test_workout_reminder_at_the_preferred_workout_time(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user = await anonymous_user(app)
    ok(await client.patch(PROFILE_PREFERENCES, headers=user.headers, json={"preferred_workout_time": "18:00"}))
    await register_device(client, user, TOKEN)  # the app registers its token at launch: reminders are planned
    user = await at(app, clock, user, datetime(2026, 3, 10, 17, 59, tzinfo=UTC))
    assert titles(expo) == []
    user = await at(app, clock, user, datetime(2026, 3, 10, 18, 0, tzinfo=UTC))
    assert titles(expo) == ["Time to move"]
    await at(app, clock, user, datetime(2026, 3, 11, 18, 0, tzinfo=UTC))
    assert titles(expo) == ["Time to move"] * 2


async def test_a_reminder_in_quiet_hours_is_dropped_not_sent_when_they_end(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user, _ = await start_fast_in_paris_at_8(app, client, clock)
    await set_preferences(client, user, quiet_hours_enabled=True, quiet_hours_start="23:00", quiet_hours_end="07:00")
    user = await at(app, clock, user, datetime(2026, 3, 10, 22, 30, tzinfo=UTC))  # 23:30 local: quiet
    user = await at(app, clock, user, datetime(2026, 3, 10, 23, 0, tzinfo=UTC))  # the goal at 00:00: quiet
    await at(app, clock, user, datetime(2026, 3, 11, 6, 0, tzinfo=UTC))  # 07:00 local
    assert titles(expo) == []
