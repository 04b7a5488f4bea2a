"""Transactional outbox: work queued inside a transaction is delivered after commit, at least once,
with back-off on failure, parked dead after too many attempts, and never twice by two workers."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from src.core.clock import FrozenClock
from src.core.outbox import LAST_ERROR_CHARS, Delivery, OutboxDispatcher, OutboxMessage
from src.core.uow import UnitOfWork
from src.dependencies import UoWDep
from tests.conftest import client_for

MAX_ATTEMPTS = 3


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    overrides: dict[str, object] = {"outbox_max_attempts": MAX_ATTEMPTS}
    overrides.update(getattr(request, "param", {}))
    return overrides


def dispatcher(app: FastAPI) -> OutboxDispatcher:
    outbox = app.state.resources.outbox
    assert isinstance(outbox, OutboxDispatcher)
    return outbox


async def enqueue(
    app: FastAPI,
    topic: str,
    payload: dict[str, object] | None = None,
    *,
    identity_id: uuid.UUID | None = None,
    commit: bool = True,
) -> None:
    """Queue one message inside a unit of work, as a service would, then commit or roll back."""
    async with app.state.sessions.writer() as session:
        uow = UnitOfWork(session=session, resources=app.state.resources)
        uow.enqueue(topic, payload or {}, identity_id=identity_id)
        await session.flush()
        if commit:
            await session.commit()
        else:
            await session.rollback()


async def messages(app: FastAPI, topic: str | None = None) -> list[OutboxMessage]:
    async with app.state.sessions.reader() as session:
        query = select(OutboxMessage).order_by(OutboxMessage.created_at)
        if topic is not None:
            query = query.where(OutboxMessage.topic == topic)
        return list((await session.execute(query)).scalars())


Recorder = Callable[[UnitOfWork, Delivery], Awaitable[None]]


def recorder(into: list[Delivery]) -> Recorder:
    async def handle(_uow: UnitOfWork, delivery: Delivery) -> None:
        into.append(delivery)

    return handle


def failing(into: list[Delivery], times: int = 1_000) -> Recorder:
    async def handle(_uow: UnitOfWork, delivery: Delivery) -> None:
        into.append(delivery)
        if len(into) <= times:
            raise RuntimeError("push service down")

    return handle


async def test_committed_message_is_delivered_once_to_its_handler(app: FastAPI, clock: FrozenClock) -> None:
    received: list[Delivery] = []
    dispatcher(app).register("push.send", recorder(received))
    someone = uuid.uuid4()
    await enqueue(app, "push.send", {"title": "Fast complete"}, identity_id=someone)

    first = await dispatcher(app).drain()
    second = await dispatcher(app).drain()

    assert (first, second) == (1, 0)
    assert len(received) == 1
    assert received[0].topic == "push.send"
    assert received[0].payload == {"title": "Fast complete"}
    assert received[0].identity_id == someone
    assert received[0].attempt == 1
    [row] = await messages(app)
    assert row.delivered_at == clock.now()


async def test_rolled_back_message_is_never_delivered(app: FastAPI) -> None:
    received: list[Delivery] = []
    dispatcher(app).register("push.send", recorder(received))
    await enqueue(app, "push.send", commit=False)

    delivered = await dispatcher(app).drain()

    assert delivered == 0
    assert received == []
    assert await messages(app) == []


async def test_failing_handler_is_retried_after_back_off(app: FastAPI, clock: FrozenClock) -> None:
    calls: list[Delivery] = []
    dispatcher(app).register("email.send", failing(calls, times=1))
    await enqueue(app, "email.send")

    assert await dispatcher(app).drain() == 0
    [row] = await messages(app)
    assert row.last_error is not None
    assert row.last_error.startswith("Traceback (most recent call last):")
    assert row.last_error.rstrip().endswith("RuntimeError: push service down")
    assert "in handle" in row.last_error  # the failing frame of the handler
    assert row.available_at == clock.now() + timedelta(seconds=2)

    assert await dispatcher(app).drain() == 0  # still backing off
    assert len(calls) == 1

    clock.advance(seconds=2)
    assert await dispatcher(app).drain() == 1
    assert [c.attempt for c in calls] == [1, 2]
    [row] = await messages(app)
    assert row.delivered_at == clock.now()
    assert row.dead_at is None


async def test_back_off_doubles_with_each_failure(app: FastAPI, clock: FrozenClock) -> None:
    calls: list[Delivery] = []
    dispatcher(app).register("email.send", failing(calls))
    await enqueue(app, "email.send")

    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        await dispatcher(app).drain()
        [row] = await messages(app)
        waits.append(row.available_at - clock.now())
        clock.set(row.available_at)

    assert waits == [timedelta(seconds=2), timedelta(seconds=4)]


async def test_failing_handler_is_parked_dead_after_max_attempts(app: FastAPI, clock: FrozenClock) -> None:
    calls: list[Delivery] = []
    dispatcher(app).register("email.send", failing(calls))
    await enqueue(app, "email.send")

    for _ in range(MAX_ATTEMPTS + 2):
        await dispatcher(app).drain()
        clock.advance(hours=2)

    assert len(calls) == MAX_ATTEMPTS
    [row] = await messages(app)
    assert row.attempts == MAX_ATTEMPTS
    assert row.dead_at is not None
    assert row.delivered_at is None
    assert row.last_error is not None
    assert row.last_error.rstrip().endswith("RuntimeError: push service down")


async def test_message_without_handler_stays_queued_untouched(app: FastAPI, clock: FrozenClock) -> None:
    dispatcher(app).register("push.send", recorder([]))
    await enqueue(app, "coach.digest")

    for _ in range(MAX_ATTEMPTS + 2):
        assert await dispatcher(app).drain() == 0
        clock.advance(hours=2)

    [row] = await messages(app)
    assert row.attempts == 0
    assert row.dead_at is None
    assert row.delivered_at is None


async def test_message_without_handler_reaches_a_handler_registered_later(app: FastAPI, clock: FrozenClock) -> None:
    await enqueue(app, "coach.digest", {"week": 10})
    await dispatcher(app).drain()
    clock.advance(days=3)

    received: list[Delivery] = []
    dispatcher(app).register("coach.digest", recorder(received))

    assert await dispatcher(app).drain() == 1
    assert [(d.payload, d.attempt) for d in received] == [({"week": 10}, 1)]


async def test_dead_message_is_not_retried_once_the_handler_recovers(app: FastAPI, clock: FrozenClock) -> None:
    calls: list[Delivery] = []
    dispatcher(app).register("email.send", failing(calls, times=MAX_ATTEMPTS))
    await enqueue(app, "email.send")
    for _ in range(MAX_ATTEMPTS):
        await dispatcher(app).drain()
        clock.advance(hours=2)

    clock.advance(days=1)

    assert await dispatcher(app).drain() == 0
    assert len(calls) == MAX_ATTEMPTS


async def test_failing_handler_does_not_hold_up_other_messages(app: FastAPI) -> None:
    broken: list[Delivery] = []
    fine: list[Delivery] = []
    dispatcher(app).register("broken", failing(broken))
    dispatcher(app).register("fine", recorder(fine))
    await enqueue(app, "broken")
    await enqueue(app, "fine")

    delivered = await dispatcher(app).drain()

    assert delivered == 1
    assert [d.topic for d in fine] == ["fine"]


async def test_failing_handlers_own_writes_are_rolled_back(app: FastAPI) -> None:
    async def writes_then_fails(uow: UnitOfWork, _delivery: Delivery) -> None:
        uow.enqueue("follow.up", {})
        await uow.session.flush()
        raise RuntimeError("failed after writing")

    dispatcher(app).register("first", writes_then_fails)
    await enqueue(app, "first")

    await dispatcher(app).drain()

    assert await messages(app, "follow.up") == []


async def test_successful_handlers_writes_commit_with_the_delivery(app: FastAPI) -> None:
    async def chains(uow: UnitOfWork, _delivery: Delivery) -> None:
        uow.enqueue("follow.up", {"step": 2})

    received: list[Delivery] = []
    dispatcher(app).register("first", chains)
    dispatcher(app).register("follow.up", recorder(received))
    await enqueue(app, "first")

    delivered = await dispatcher(app).drain()

    assert delivered == 2
    assert [d.payload for d in received] == [{"step": 2}]


async def test_message_scheduled_for_later_waits_until_due(app: FastAPI, clock: FrozenClock) -> None:
    received: list[Delivery] = []
    dispatcher(app).register("reminder", recorder(received))
    async with app.state.sessions.writer() as session:
        uow = UnitOfWork(session=session, resources=app.state.resources)
        uow.enqueue("reminder", {}, available_at=clock.now() + timedelta(hours=8))
        await session.commit()

    assert await dispatcher(app).drain() == 0
    clock.advance(hours=8)
    assert await dispatcher(app).drain() == 1
    assert len(received) == 1


async def test_concurrent_drains_deliver_each_message_exactly_once(app: FastAPI) -> None:
    received: list[Delivery] = []

    async def slow_handler(_uow: UnitOfWork, delivery: Delivery) -> None:
        await asyncio.sleep(0)  # let the other worker run in between
        received.append(delivery)

    dispatcher(app).register("fan.out", slow_handler)
    for n in range(12):
        await enqueue(app, "fan.out", {"n": n})

    counts = await asyncio.gather(dispatcher(app).drain(batch=3), dispatcher(app).drain(batch=3))

    assert sum(counts) == 12
    assert sorted(d.payload["n"] for d in received) == list(range(12))
    assert all(row.delivered_at is not None for row in await messages(app))


async def test_concurrent_dispatchers_of_two_workers_deliver_each_message_once(app: FastAPI) -> None:
    received: list[Delivery] = []

    async def slow_handler(_uow: UnitOfWork, delivery: Delivery) -> None:
        await asyncio.sleep(0)
        received.append(delivery)

    resources = app.state.resources
    workers = [
        OutboxDispatcher(
            app.state.sessions,
            clock=resources.clock,
            settings=resources.settings,
            unit_of_work=lambda session: UnitOfWork(session=session, resources=resources),
            handlers={"fan.out": slow_handler},
        )
        for _ in range(3)
    ]
    for n in range(10):
        await enqueue(app, "fan.out", {"n": n})

    counts = await asyncio.gather(*(worker.drain(batch=2) for worker in workers))

    assert sum(counts) == 10
    assert sorted(d.payload["n"] for d in received) == list(range(10))


def test_second_handler_for_a_topic_is_refused(app: FastAPI) -> None:
    dispatcher(app).register("push.send", recorder([]))

    with pytest.raises(ValueError, match="already has a handler"):
        dispatcher(app).register("push.send", recorder([]))


@pytest.mark.parametrize("settings_overrides", [{"outbox_enabled": True}], indirect=True)
async def test_message_enqueued_by_a_request_is_delivered_after_the_response(app: FastAPI) -> None:
    delivered = asyncio.Event()
    received: list[Delivery] = []

    async def handle(_uow: UnitOfWork, delivery: Delivery) -> None:
        received.append(delivery)
        delivered.set()

    dispatcher(app).register("welcome.email", handle)

    @app.post("/signup-like")
    async def signup_like(uow: UoWDep) -> dict[str, str]:
        uow.enqueue("welcome.email", {"to": "someone"})
        return {"status": "ok"}

    async with client_for(app) as c:
        response = await c.post("/signup-like")
    assert response.status_code == 200

    # The dispatcher is woken by the commit; it does not wait for its next poll (5 s).
    await asyncio.wait_for(delivered.wait(), timeout=2)
    assert [d.payload for d in received] == [{"to": "someone"}]


@pytest.mark.parametrize("settings_overrides", [{"outbox_enabled": True}], indirect=True)
async def test_request_that_fails_after_enqueueing_delivers_nothing(app: FastAPI) -> None:
    received: list[Delivery] = []
    dispatcher(app).register("welcome.email", recorder(received))

    @app.post("/fails-after-enqueue")
    async def fails_after_enqueue(uow: UoWDep) -> None:
        uow.enqueue("welcome.email", {})
        await uow.session.flush()
        raise RuntimeError("failed after queueing")

    async with client_for(app) as c:
        response = await c.post("/fails-after-enqueue")

    assert response.status_code == 500
    assert await dispatcher(app).drain() == 0
    assert received == []
    assert await messages(app) == []


async def test_outbox_rows_of_an_identity_are_exported_and_erased(app: FastAPI) -> None:
    someone, other = uuid.uuid4(), uuid.uuid4()
    await enqueue(app, "push.send", identity_id=someone)
    await enqueue(app, "push.send", identity_id=other)
    [entry] = [e for e in app.state.resources.personal_data.entries() if e.module == "outbox"]

    async with app.state.sessions.writer() as session:
        uow = UnitOfWork(session=session, resources=app.state.resources)
        exported = await entry.export(uow, someone)
        erased = await entry.erase(uow, someone)
        await session.commit()

    assert [item["topic"] for item in exported] == ["push.send"]
    assert erased == 1
    assert [row.identity_id for row in await messages(app)] == [other]


async def test_a_long_traceback_is_kept_bounded_with_its_end(app: FastAPI) -> None:
    async def deep(_uow: UnitOfWork, delivery: Delivery) -> None:
        raise ValueError("context " * 2000 + "and the innermost failure")

    dispatcher(app).register("deep.fail", deep)
    await enqueue(app, "deep.fail")

    assert await dispatcher(app).drain() == 0
    [row] = await messages(app)
    assert row.last_error is not None
    assert len(row.last_error) == LAST_ERROR_CHARS
    assert row.last_error.startswith("…")
    assert row.last_error.rstrip().endswith("and the innermost failure")


async def test_a_failed_delivery_is_logged_with_its_traceback(app: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    dispatcher(app).register("email.send", failing([]))
    await enqueue(app, "email.send")

    with caplog.at_level(logging.WARNING, logger="ugoki.outbox"):
        assert await dispatcher(app).drain() == 0

    [record] = [r for r in caplog.records if r.name == "ugoki.outbox"]
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], RuntimeError)
