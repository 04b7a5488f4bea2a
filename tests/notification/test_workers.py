"""Several dispatchers over one database deliver each notification exactly once; a worker that
dies mid-delivery loses nothing and sends nothing twice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from fastapi import FastAPI
from httpx import AsyncClient
from sqlalchemy import func, select, update

from src.core.clock import FrozenClock
from src.core.outbox import OutboxDispatcher, OutboxMessage
from src.core.uow import UnitOfWork
from src.modules.notification import NOTIFY_TOPIC
from tests.factories import anonymous_user
from tests.notification.fake_expo import FakeExpo
from tests.notification.helpers import deliver, dispatcher, notifications, register_device

PEOPLE = 10
PER_PERSON = 50


@pytest.fixture
def settings_overrides(expo: FakeExpo) -> dict[str, object]:
    return {
        "push_provider": "expo",
        "expo_push_url": expo.url,
        "expo_backoff_seconds": 0.01,
        "expo_receipt_delay_seconds": 3600,  # receipts are not part of these races
        "notification_push_hourly_cap": 100,
        "outbox_lease_seconds": 60,
    }


async def queue(app: FastAPI, identity_id: str, titles: list[str]) -> None:
    async with app.state.sessions.writer() as session:
        uow = UnitOfWork(session=session, resources=app.state.resources)
        for title in titles:
            body = {"identity_id": identity_id, "category": "social", "title": title, "body": "Hello"}
            uow.enqueue(NOTIFY_TOPIC, body, identity_id=uuid.UUID(identity_id))
        await session.commit()


def second_dispatcher(app: FastAPI) -> OutboxDispatcher:
    first = dispatcher(app)
    resources = app.state.resources
    return OutboxDispatcher(
        app.state.sessions,
        clock=resources.clock,
        settings=resources.settings,
        unit_of_work=lambda session: UnitOfWork(session=session, resources=resources),
        handlers=dict(first.handlers),
    )


async def undelivered(app: FastAPI) -> int:
    async with app.state.sessions.reader() as session:
        found = await session.execute(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.topic == NOTIFY_TOPIC, OutboxMessage.delivered_at.is_(None))
        )
        return int(found.scalar_one())


async def test_two_dispatchers_racing_over_500_messages_deliver_each_exactly_once(
    app: FastAPI, client: AsyncClient, expo: FakeExpo
) -> None:
    expected: list[str] = []
    for p in range(PEOPLE):
        user = await anonymous_user(app)
        await register_device(client, user, f"ExponentPushToken[race-{p}]")
        titles = [f"p{p}-m{m}" for m in range(PER_PERSON)]
        await queue(app, user.id, titles)
        expected += titles

    one, two = dispatcher(app), second_dispatcher(app)
    counts = await asyncio.gather(one.drain(batch=25), two.drain(batch=25))

    assert sorted(str(m["title"]) for m in expo.received) == sorted(expected)
    assert sum(counts) == PEOPLE * PER_PERSON
    assert all(counts)  # both took part
    assert await undelivered(app) == 0


async def test_a_claim_whose_lease_expired_is_delivered_by_another_worker_once(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user = await anonymous_user(app)
    await register_device(client, user, "ExponentPushToken[lease]")
    await queue(app, user.id, ["only once"])
    dead = dispatcher(app)
    claimed = await dead._claim(10)  # this worker is killed right after claiming
    assert len(claimed) == 1
    assert await second_dispatcher(app).drain() == 0  # still leased: nobody else takes it

    clock.advance(seconds=61)
    assert await second_dispatcher(app).drain() == 1
    assert [m["title"] for m in expo.received] == ["only once"]
    # The first worker wakes up late: its claim is fenced out and nothing is pushed again.
    assert await dead._deliver(claimed[0]) is False
    assert [m["title"] for m in expo.received] == ["only once"]
    assert len(await notifications(client, user)) == 1


async def test_a_worker_killed_after_pushing_does_not_push_again_on_retry(
    app: FastAPI, client: AsyncClient, clock: FrozenClock, expo: FakeExpo
) -> None:
    user = await anonymous_user(app)
    await register_device(client, user, "ExponentPushToken[crash]")
    await queue(app, user.id, ["sent before the crash"])
    await deliver(app)
    # As if the worker died after Expo answered but before the message was marked delivered.
    async with app.state.sessions.writer() as session:
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.topic == NOTIFY_TOPIC)
            .values(
                delivered_at=None,
                locked_until=None,
                payload={
                    "identity_id": user.id,
                    "category": "social",
                    "title": "sent before the crash",
                    "body": "Hello",
                },
            )
        )
        await session.commit()
    clock.advance(timedelta(seconds=1))
    assert await deliver(app) == 1
    assert [m["title"] for m in expo.received] == ["sent before the crash"]
    assert len(await notifications(client, user)) == 1
