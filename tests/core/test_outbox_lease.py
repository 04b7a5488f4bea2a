"""A message whose handler runs longer than the lease keeps its claim: the lease is renewed while
the handler works, so no other worker takes the message meanwhile."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from src.core.outbox import Delivery, OutboxDispatcher
from src.core.uow import UnitOfWork

LEASE = 5


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"outbox_lease_seconds": LEASE}


async def test_a_slow_handler_keeps_its_claim_past_the_first_lease(app: FastAPI, clock: FrozenClock) -> None:
    runs: list[str] = []
    taken_by_other: list[int] = []

    async def slow(uow: UnitOfWork, message: Delivery) -> None:
        runs.append("slow")
        if len(runs) > 1:
            return  # taken by the other worker: the test has failed already
        clock.advance(seconds=LEASE - 1)
        await asyncio.sleep(LEASE / 3 + 0.5)  # the lease is renewed meanwhile (from the moved clock)
        clock.advance(seconds=2)  # past the first lease's end
        taken_by_other.append(await other.drain())

    resources = app.state.resources

    def dispatcher() -> OutboxDispatcher[UnitOfWork]:
        return OutboxDispatcher(
            app.state.sessions,
            clock=resources.clock,
            settings=resources.settings,
            unit_of_work=lambda session: UnitOfWork(session=session, resources=resources),
            handlers={"test.slow": slow},
        )

    first, other = dispatcher(), dispatcher()
    async with app.state.sessions.writer() as session:
        UnitOfWork(session=session, resources=app.state.resources).enqueue("test.slow", {})
        await session.commit()

    assert await first.drain() == 1
    assert runs == ["slow"]
    assert taken_by_other == [0]
