"""Quiet hours in the person's own zone hold notifications until they end (then deliver them at
once); urgent ones go through; at most five pushes per hour and category."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import update

from src.core.clock import FrozenClock
from src.core.outbox import OutboxMessage
from src.core.uow import UnitOfWork
from tests.factories import admin_user, anonymous_user, fresh_token
from tests.notification.fake_expo import FakeExpo
from tests.notification.helpers import (
    NOTIFICATIONS,
    complete_fast,
    deliver,
    notifications,
    ok,
    register_device,
    set_preferences,
    set_timezone,
)

TOKEN = "ExponentPushToken[quiet-phone]"


def categories(expo: FakeExpo) -> list[str]:
    return [m["data"]["category"] for m in expo.received]


async def test_level_up_during_quiet_hours_in_their_zone_is_held_then_sent_when_they_end(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    clock.set(datetime(2026, 3, 10, 14, 0, tzinfo=UTC))  # 23:00 in Tokyo, 14:00 in UTC
    user = await anonymous_user(app)
    await set_timezone(client, user, "Asia/Tokyo")
    await register_device(client, user, TOKEN)
    await set_preferences(client, user, quiet_hours_enabled=True, quiet_hours_start="22:00", quiet_hours_end="07:00")
    await complete_fast(client, user, clock.now() - timedelta(hours=20))
    await deliver(app)
    assert "level_up" not in categories(expo)
    assert [n for n in await notifications(client, user) if n["category"] == "level_up"] == []

    clock.set(datetime(2026, 3, 10, 21, 59, tzinfo=UTC))  # 06:59 in Tokyo: still quiet
    await deliver(app)
    assert "level_up" not in categories(expo)

    clock.set(datetime(2026, 3, 10, 22, 0, tzinfo=UTC))  # 07:00 in Tokyo
    await deliver(app)
    assert categories(expo).count("level_up") == 1
    user = await fresh_token(app, user)
    listed = [n for n in await notifications(client, user) if n["category"] == "level_up"]
    assert len(listed) == 1
    assert listed[0]["scheduled_for"].startswith("2026-03-10T22:00:00")


async def test_quiet_hours_are_read_in_the_persons_zone_not_utc(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    clock.set(datetime(2026, 3, 10, 23, 0, tzinfo=UTC))  # 23:00 UTC but 10:00 in Sydney
    user = await anonymous_user(app)
    await set_timezone(client, user, "Australia/Sydney")
    await register_device(client, user, TOKEN)
    await set_preferences(client, user, quiet_hours_enabled=True, quiet_hours_start="22:00", quiet_hours_end="07:00")
    await complete_fast(client, user, clock.now() - timedelta(hours=20))
    await deliver(app)
    assert categories(expo).count("level_up") == 1


async def test_urgent_notifications_go_through_quiet_hours_and_the_cap(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    clock.set(datetime(2026, 3, 10, 23, 0, tzinfo=UTC))
    admin = await admin_user(app)
    user = await anonymous_user(app)
    await register_device(client, user, TOKEN)
    await set_preferences(client, user, quiet_hours_enabled=True, quiet_hours_start="22:00", quiet_hours_end="07:00")
    for _ in range(7):
        body = {"identity_id": user.id, "category": "system", "title": "Security", "body": "New sign-in"}
        ok(await client.post(f"{NOTIFICATIONS}/send", headers=admin.headers, json={**body, "priority": "urgent"}), 202)
    ok(
        await client.post(
            f"{NOTIFICATIONS}/send",
            headers=admin.headers,
            json={"identity_id": user.id, "category": "system", "title": "Later", "body": "Not urgent"},
        ),
        202,
    )
    await deliver(app)
    assert [m["title"] for m in expo.received] == ["Security"] * 7


async def test_at_most_five_pushes_per_hour_and_category_but_all_are_in_app(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    admin = await admin_user(app)
    user = await anonymous_user(app)
    await register_device(client, user, TOKEN)
    for i in range(6):
        ok(
            await client.post(
                f"{NOTIFICATIONS}/send",
                headers=admin.headers,
                json={"identity_id": user.id, "category": "social", "title": f"News {i}", "body": "Hi"},
            ),
            202,
        )
    ok(
        await client.post(
            f"{NOTIFICATIONS}/send",
            headers=admin.headers,
            json={"identity_id": user.id, "category": "system", "title": "Other category", "body": "Hi"},
        ),
        202,
    )
    await deliver(app)
    assert categories(expo).count("social") == 5
    assert categories(expo).count("system") == 1
    assert len(await notifications(client, user)) == 7

    clock.advance(minutes=61)
    user = await fresh_token(app, user)
    ok(
        await client.post(
            f"{NOTIFICATIONS}/send",
            headers=(await fresh_token(app, admin)).headers,
            json={"identity_id": user.id, "category": "social", "title": "Next hour", "body": "Hi"},
        ),
        202,
    )
    await deliver(app)
    assert categories(expo).count("social") == 6


async def test_send_is_admin_only(app: FastAPI, client: AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        f"{NOTIFICATIONS}/send", headers=user.headers, json={"category": "system", "title": "x", "body": "y"}
    )
    assert response.status_code == 403


async def test_a_held_notification_is_not_sent_early_when_its_message_runs_again(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user = await anonymous_user(app)
    await register_device(client, user, TOKEN)
    await set_preferences(client, user, quiet_hours_enabled=True, quiet_hours_start="00:00", quiet_hours_end="23:00")
    body = {"identity_id": user.id, "category": "system", "title": "Held", "body": "Later"}
    async with app.state.sessions.writer() as session:
        UnitOfWork(session=session, resources=app.state.resources).enqueue(
            "notification.send", body, identity_id=uuid.UUID(user.id)
        )
        await session.commit()
    await deliver(app)
    async with app.state.sessions.writer() as session:  # the worker died before recording the message done
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.topic == "notification.send")
            .values(delivered_at=None, payload=body)
        )
        await session.commit()
    await deliver(app)
    assert expo.received == []
    clock.set(datetime(2026, 3, 10, 23, 0, tzinfo=UTC))
    await deliver(app)
    assert [m["title"] for m in expo.received] == ["Held"]
