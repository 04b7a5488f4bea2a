"""In-process domain events: one module's action triggers other modules' work in the same
transaction.

A module that owns a fact (a fast completed, a weight logged) publishes a frozen `DomainEvent`
through its unit of work. Subscribers, registered by the app shell from each module's manifest,
run one after another, in ascending `order`, inside the same database transaction: either all of
their work is committed with the request, or none of it. A subscriber may return a value (for
example what the user earned); the publisher receives every returned value in an `Outcome` and
picks the kinds it knows with `outcome.of(Kind)`. A subscriber may publish further events.

Work that must happen only after commit (push, email, LLM calls) is not done by subscribers:
they enqueue outbox messages (see `src/core/outbox.py`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from src.core.work import Work

T = TypeVar("T")


class DomainEvent(BaseModel):
    """Something that happened to one identity, published inside the transaction that did it."""

    model_config = ConfigDict(frozen=True)

    identity_id: UUID
    occurred_at: datetime


# A subscriber: `async def on_x(uow: UnitOfWork, event: X) -> <what it returns, or None>`.
type Handler[W: Work, E: DomainEvent] = Callable[[W, E], Awaitable[Any]]


# Conventional orders for subscribers, so that cascades run in the documented sequence:
# event journal → XP → streaks → achievements → challenges → notifications.
class Order:
    JOURNAL = 10
    PROGRESSION = 20
    PROFILE = 40
    SOCIAL = 50
    NOTIFICATION = 90


@dataclass(frozen=True)
class Subscription[W: Work, E: DomainEvent]:
    """`handler` runs for every published `event_type` (and subclasses). Generic in the unit of
    work and the event, so mypy checks that the handler takes the event it subscribes to."""

    event_type: type[E]
    handler: Handler[W, E]
    order: int = 100
    name: str = ""


@dataclass
class Outcome:
    """What the subscribers of a published event returned."""

    items: list[Any] = field(default_factory=list)

    def add(self, item: Any) -> None:
        if isinstance(item, Outcome):
            self.items.extend(item.items)
        elif item is not None:
            self.items.append(item)

    def of(self, kind: type[T]) -> list[T]:
        return [item for item in self.items if isinstance(item, kind)]

    def first(self, kind: type[T]) -> T | None:
        found = self.of(kind)
        return found[0] if found else None

    def __iter__(self) -> Iterator[Any]:
        return iter(self.items)


class EventBus[W: Work]:
    def __init__(self) -> None:
        self._subscriptions: dict[type[DomainEvent], list[Subscription[W, Any]]] = {}

    def subscribe(self, subscription: Subscription[W, Any]) -> None:
        subs = self._subscriptions.setdefault(subscription.event_type, [])
        subs.append(subscription)
        subs.sort(key=lambda s: s.order)

    def subscribers_of(self, event_type: type[DomainEvent]) -> list[Subscription[W, Any]]:
        found: list[Subscription[W, Any]] = []
        for klass in event_type.__mro__:
            found.extend(self._subscriptions.get(klass, ()))
        return sorted(found, key=lambda s: s.order)

    async def publish(self, uow: W, event: DomainEvent) -> Outcome:
        outcome = Outcome()
        for subscription in self.subscribers_of(type(event)):
            outcome.add(await subscription.handler(uow, event))
        return outcome
