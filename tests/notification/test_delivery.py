"""A completed fast that levels the person up ends, after commit, as exactly one push at Expo and
one in-app notification — or none, when the person switched the category or the channel off."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from httpx import AsyncClient

from src.core.clock import FrozenClock
from tests.factories import admin_user, anonymous_user, fresh_token
from tests.notification.fake_expo import FakeExpo
from tests.notification.helpers import (
    DEVICES,
    NOTIFICATIONS,
    WINDOWS,
    complete_fast,
    deliver,
    notifications,
    ok,
    register_device,
    set_preferences,
)

TOKEN = "ExponentPushToken[level-up-phone]"


def level_ups(expo: FakeExpo) -> list[dict[str, object]]:
    return [m for m in expo.received if m["data"]["category"] == "level_up"]  # type: ignore[index]


async def test_level_up_from_a_fast_is_pushed_once_and_listed_in_app(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user = await anonymous_user(app)
    await register_device(client, user, TOKEN)
    closed = await complete_fast(client, user, clock.now() - timedelta(hours=20))
    assert closed["level_up"] is True
    assert expo.received == []  # nothing leaves before the worker runs (after commit)

    await deliver(app)
    await deliver(app)  # a second pass sends nothing again

    pushes = level_ups(expo)
    assert len(pushes) == 1
    assert pushes[0]["to"] == TOKEN
    assert str(pushes[0]["title"]).startswith("Level 2")
    listed = [n for n in await notifications(client, user) if n["category"] == "level_up"]
    assert len(listed) == 1
    assert listed[0]["status"] == "delivered"  # Expo's receipt (checked at once here) said ok
    assert pushes[0]["data"]["notification_id"] == listed[0]["id"]  # type: ignore[index]


async def test_no_push_when_the_category_is_switched_off(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user = await anonymous_user(app)
    await register_device(client, user, TOKEN)
    await set_preferences(client, user, achievement_notifications=False)
    await complete_fast(client, user, clock.now() - timedelta(hours=20))
    await deliver(app)
    assert level_ups(expo) == []
    assert [n for n in await notifications(client, user) if n["category"] in ("level_up", "achievement")] == []


async def test_no_push_when_the_push_channel_is_off_but_in_app_copy_stays(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user = await anonymous_user(app)
    await register_device(client, user, TOKEN)
    await set_preferences(client, user, push_enabled=False)
    await complete_fast(client, user, clock.now() - timedelta(hours=20))
    await deliver(app)
    assert expo.received == []
    assert [n["category"] for n in await notifications(client, user)].count("level_up") == 1


async def test_in_app_switch_off_hides_the_notification_but_pushes(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user = await anonymous_user(app)
    await register_device(client, user, TOKEN)
    await set_preferences(client, user, in_app_enabled=False)
    await complete_fast(client, user, clock.now() - timedelta(hours=20))
    await deliver(app)
    assert len(level_ups(expo)) == 1
    assert await notifications(client, user) == []


async def test_device_not_registered_ticket_deactivates_the_token(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user = await anonymous_user(app)
    await register_device(client, user, TOKEN)
    expo.unregistered.add(TOKEN)
    await complete_fast(client, user, clock.now() - timedelta(hours=20))
    await deliver(app)
    assert ok(await client.get(DEVICES, headers=user.headers)) == []


async def test_device_not_registered_receipt_deactivates_the_token(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user = await anonymous_user(app)
    await register_device(client, user, TOKEN)
    await register_device(client, user, "ExponentPushToken[second-phone]", platform="android")
    expo.unregistered_in_receipt.add(TOKEN)
    await complete_fast(client, user, clock.now() - timedelta(hours=20))
    await deliver(app)
    assert len(level_ups(expo)) == 2  # both accepted by Expo; the receipt says one device is gone
    assert expo.receipt_requests
    devices = ok(await client.get(DEVICES, headers=user.headers))
    assert [d["token"] for d in devices] == ["ExponentPushToken[second-phone]"]


async def test_expo_5xx_and_429_are_retried_and_the_push_sent_once(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user = await anonymous_user(app)
    await register_device(client, user, TOKEN)
    expo.fail_next = [503, 429]
    await complete_fast(client, user, clock.now() - timedelta(hours=20))
    await deliver(app)
    assert len(level_ups(expo)) == 1
    assert expo.requests >= 3


async def test_expo_down_keeps_the_message_for_a_later_attempt(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user = await anonymous_user(app)
    await register_device(client, user, TOKEN)
    expo.fail_next = [500] * 20  # more than the adapter's retries
    await complete_fast(client, user, clock.now() - timedelta(hours=20))
    await deliver(app)
    assert level_ups(expo) == []
    # The in-app copy is already there; the push waits for the next attempt.
    assert [n["category"] for n in await notifications(client, user)].count("level_up") == 1
    expo.fail_next = []
    clock.advance(minutes=5)  # past the outbox back-off
    await deliver(app)
    assert len(level_ups(expo)) == 1
    assert [n["category"] for n in await notifications(client, user)].count("level_up") == 1


async def test_stale_celebrations_are_dropped_not_sent_late(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user = await anonymous_user(app)
    await register_device(client, user, TOKEN)
    await complete_fast(client, user, clock.now() - timedelta(hours=20))
    clock.advance(hours=7)  # the worker was down longer than the 6 h default
    await deliver(app)
    assert expo.received == []
    assert await notifications(client, await fresh_token(app, user)) == []


async def test_a_push_never_carries_a_health_value_the_in_app_copy_keeps_the_text(
    app: FastAPI, client: AsyncClient, expo: FakeExpo
) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)
    await register_device(client, user, TOKEN)
    body = {"identity_id": user.id, "category": "system", "title": "Weekly check-in", "body": "You weigh 82.5 kg"}
    ok(await client.post(f"{NOTIFICATIONS}/send", headers=admin.headers, json=body), 202)
    await deliver(app)
    assert [m["body"] for m in expo.received] == ["Open UGOKI to see the details."]
    assert set(expo.received[0]["data"]) == {"notification_id", "category"}  # type: ignore[arg-type]
    assert [n["body"] for n in await notifications(client, user)] == ["You weigh 82.5 kg"]


async def test_a_fast_completed_now_is_announced_once_a_logged_past_fast_is_not(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user = await anonymous_user(app)
    await register_device(client, user, TOKEN)
    await complete_fast(client, user, clock.now() - timedelta(hours=17), protocol="16:8")
    start, end = clock.now() - timedelta(days=3), clock.now() - timedelta(days=3) + timedelta(hours=14)
    ok(
        await client.post(
            WINDOWS,
            headers=user.headers,
            json={"window_type": "fast", "start_time": start.isoformat(), "end_time": end.isoformat()},
        ),
        201,
    )
    await deliver(app)
    fasting = [m for m in expo.received if m["data"]["category"] == "fasting"]  # type: ignore[index]
    assert [(m["title"], m["body"]) for m in fasting] == [
        ("Fast complete", "You fasted for 17 h 00 min. Goal reached!")
    ]
