"""Domain events: subscribers run in order, inside the publisher's transaction; what they return
comes back to the publisher; one failing subscriber undoes the whole request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from src.core.bus import DomainEvent, EventBus, Order, Outcome, Subscription
from src.core.clock import FrozenClock
from src.core.errors import Conflict
from src.core.outbox import OutboxMessage
from src.core.uow import UnitOfWork
from src.dependencies import UoWDep
from tests.conftest import client_for


class FastCompleted(DomainEvent):
    hours: float


class LongFastCompleted(FastCompleted):
    pass


class StreakExtended(DomainEvent):
    days: int


@dataclass(frozen=True)
class XpAwarded:
    amount: int


@dataclass(frozen=True)
class AchievementUnlocked:
    key: str


async def _topics(app: FastAPI) -> list[str]:
    async with app.state.sessions.reader() as session:
        return sorted((await session.execute(select(OutboxMessage.topic))).scalars())


def _install_publish_route(app: FastAPI, make_event: Any = None) -> None:
    """A throwaway endpoint that writes a row, publishes an event and reports the outcome."""

    @app.post("/test/complete-fast")
    async def complete_fast(uow: UoWDep) -> dict[str, Any]:
        uow.enqueue("written.before.publish", {})
        await uow.session.flush()
        event = (make_event or _event)(uow)
        outcome = await uow.publish(event)
        return {
            "xp": [x.amount for x in outcome.of(XpAwarded)],
            "achievements": [a.key for a in outcome.of(AchievementUnlocked)],
            "count": len(outcome.items),
        }


def _event(uow: UnitOfWork, hours: float = 16.0) -> FastCompleted:
    return FastCompleted(identity_id=uuid.UUID(int=1), occurred_at=uow.now(), hours=hours)


async def test_subscribers_run_in_ascending_order_whatever_the_subscription_order(app: FastAPI) -> None:
    ran: list[str] = []

    def named(name: str) -> Any:
        async def handler(_uow: UnitOfWork, _event: FastCompleted) -> None:
            ran.append(name)

        return handler

    bus: EventBus = app.state.resources.bus
    bus.subscribe(Subscription(FastCompleted, named("notification"), order=Order.NOTIFICATION))
    bus.subscribe(Subscription(FastCompleted, named("journal"), order=Order.JOURNAL))
    bus.subscribe(Subscription(FastCompleted, named("progression"), order=Order.PROGRESSION))
    bus.subscribe(Subscription(FastCompleted, named("social"), order=Order.SOCIAL))
    _install_publish_route(app)

    async with client_for(app) as c:
        response = await c.post("/test/complete-fast")

    assert response.status_code == 200
    assert ran == ["journal", "progression", "social", "notification"]


async def test_subscribers_receive_the_publishers_unit_of_work_and_event(app: FastAPI, clock: FrozenClock) -> None:
    seen: list[tuple[UnitOfWork, FastCompleted]] = []

    async def handler(uow: UnitOfWork, event: FastCompleted) -> None:
        seen.append((uow, event))
        uow.enqueue("written.by.subscriber", {"hours": event.hours})

    app.state.resources.bus.subscribe(Subscription(FastCompleted, handler))
    _install_publish_route(app)

    async with client_for(app) as c:
        response = await c.post("/test/complete-fast")

    assert response.status_code == 200
    [(uow, event)] = seen
    assert isinstance(uow, UnitOfWork)
    assert event.hours == 16.0
    assert event.occurred_at == clock.now()
    # The subscriber's write was committed with the publisher's.
    assert await _topics(app) == ["written.before.publish", "written.by.subscriber"]


async def test_returned_values_reach_the_publisher_by_kind(app: FastAPI) -> None:
    async def xp(_uow: UnitOfWork, event: FastCompleted) -> XpAwarded:
        return XpAwarded(50 if event.hours >= 16 else 25)

    async def achievement(_uow: UnitOfWork, _event: FastCompleted) -> AchievementUnlocked:
        return AchievementUnlocked("first_fast")

    async def nothing(_uow: UnitOfWork, _event: FastCompleted) -> None:
        return None

    async def streak_bonus(_uow: UnitOfWork, _event: FastCompleted) -> XpAwarded:
        return XpAwarded(25)

    bus: EventBus = app.state.resources.bus
    bus.subscribe(Subscription(FastCompleted, xp, order=20))
    bus.subscribe(Subscription(FastCompleted, nothing, order=25))
    bus.subscribe(Subscription(FastCompleted, streak_bonus, order=30))
    bus.subscribe(Subscription(FastCompleted, achievement, order=40))
    _install_publish_route(app)

    async with client_for(app) as c:
        response = await c.post("/test/complete-fast")

    assert response.status_code == 200
    assert response.json() == {"xp": [50, 25], "achievements": ["first_fast"], "count": 3}


async def test_outcome_of_a_nested_publication_reaches_the_first_publisher(app: FastAPI) -> None:
    async def extend_streak(uow: UnitOfWork, event: FastCompleted) -> Outcome:
        return await uow.publish(StreakExtended(identity_id=event.identity_id, occurred_at=event.occurred_at, days=7))

    async def milestone(_uow: UnitOfWork, event: StreakExtended) -> AchievementUnlocked | None:
        return AchievementUnlocked("week_warrior") if event.days == 7 else None

    bus: EventBus = app.state.resources.bus
    bus.subscribe(Subscription(FastCompleted, extend_streak, order=Order.PROGRESSION))
    bus.subscribe(Subscription(StreakExtended, milestone, order=Order.PROGRESSION))
    _install_publish_route(app)

    async with client_for(app) as c:
        response = await c.post("/test/complete-fast")

    assert response.json()["achievements"] == ["week_warrior"]


async def test_subscriber_of_a_base_event_receives_subclass_events(app: FastAPI) -> None:
    got: list[str] = []

    async def any_fast(_uow: UnitOfWork, event: FastCompleted) -> None:
        got.append(f"any:{type(event).__name__}")

    async def long_only(_uow: UnitOfWork, event: LongFastCompleted) -> None:
        got.append(f"long:{type(event).__name__}")

    bus: EventBus = app.state.resources.bus
    bus.subscribe(Subscription(FastCompleted, any_fast, order=2))
    bus.subscribe(Subscription(LongFastCompleted, long_only, order=1))
    _install_publish_route(
        app, lambda uow: LongFastCompleted(identity_id=uuid.UUID(int=1), occurred_at=uow.now(), hours=30)
    )

    async with client_for(app) as c:
        await c.post("/test/complete-fast")

    assert got == ["long:LongFastCompleted", "any:LongFastCompleted"]


async def test_subscriber_of_a_subclass_does_not_receive_base_events(app: FastAPI) -> None:
    got: list[str] = []

    async def long_only(_uow: UnitOfWork, _event: LongFastCompleted) -> None:
        got.append("long")

    app.state.resources.bus.subscribe(Subscription(LongFastCompleted, long_only))
    _install_publish_route(app)

    async with client_for(app) as c:
        response = await c.post("/test/complete-fast")

    assert response.status_code == 200
    assert got == []


async def test_failing_subscriber_rolls_back_the_whole_request(app: FastAPI) -> None:
    later_ran: list[bool] = []

    async def journal(uow: UnitOfWork, _event: FastCompleted) -> None:
        uow.enqueue("written.by.journal", {})
        await uow.session.flush()

    async def progression(_uow: UnitOfWork, _event: FastCompleted) -> None:
        raise RuntimeError("progression broke")

    async def notification(_uow: UnitOfWork, _event: FastCompleted) -> None:
        later_ran.append(True)

    bus: EventBus = app.state.resources.bus
    bus.subscribe(Subscription(FastCompleted, journal, order=Order.JOURNAL))
    bus.subscribe(Subscription(FastCompleted, progression, order=Order.PROGRESSION))
    bus.subscribe(Subscription(FastCompleted, notification, order=Order.NOTIFICATION))
    _install_publish_route(app)

    async with client_for(app) as c:
        response = await c.post("/test/complete-fast")

    assert response.status_code == 500
    assert response.json()["code"] == "INTERNAL_ERROR"
    assert later_ran == []
    assert await _topics(app) == []


async def test_subscriber_raising_a_domain_error_answers_with_it_and_saves_nothing(app: FastAPI) -> None:
    class ChallengeClosed(Conflict):
        code = "CHALLENGE_CLOSED"

    async def social(_uow: UnitOfWork, _event: FastCompleted) -> None:
        raise ChallengeClosed("The challenge has ended")

    app.state.resources.bus.subscribe(Subscription(FastCompleted, social, order=Order.SOCIAL))
    _install_publish_route(app)

    async with client_for(app) as c:
        response = await c.post("/test/complete-fast")

    assert response.status_code == 409
    assert response.json()["code"] == "CHALLENGE_CLOSED"
    assert await _topics(app) == []


async def test_publishing_without_subscribers_returns_an_empty_outcome(app: FastAPI) -> None:
    _install_publish_route(app)

    async with client_for(app) as c:
        response = await c.post("/test/complete-fast")

    assert response.json() == {"xp": [], "achievements": [], "count": 0}
    assert await _topics(app) == ["written.before.publish"]


def test_outcome_first_returns_the_first_value_of_a_kind_or_none() -> None:
    outcome = Outcome()
    outcome.add(XpAwarded(10))
    outcome.add(None)
    outcome.add(XpAwarded(20))

    assert outcome.first(XpAwarded) == XpAwarded(10)
    assert outcome.first(AchievementUnlocked) is None
    assert list(outcome) == [XpAwarded(10), XpAwarded(20)]
