"""At most REQUEST_CONCURRENCY requests of a worker at work at once; the others wait their turn in
arrival order. A request stops counting after REQUEST_HOLD_SECONDS, one that waited
REQUEST_QUEUE_SECONDS is answered 503 without running, and the health checks never wait."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import client_for
from tests.http import assert_problem


@dataclass
class Gates:
    entered: list[str] = field(default_factory=list)
    open: dict[str, asyncio.Event] = field(default_factory=dict)
    arrived: dict[str, asyncio.Event] = field(default_factory=dict)

    def gate(self, name: str) -> asyncio.Event:
        return self.open.setdefault(name, asyncio.Event())

    async def inside(self, name: str) -> None:
        """Wait until the request `name` runs."""
        async with asyncio.timeout(2):
            await self.arrived.setdefault(name, asyncio.Event()).wait()


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    overrides: dict[str, object] = request.param
    return overrides


@pytest.fixture
async def gated(app: FastAPI) -> AsyncIterator[tuple[Gates, httpx.AsyncClient]]:
    gates = Gates()

    @app.get("/admission/{name}")
    async def held(name: str) -> dict[str, str]:
        gates.entered.append(name)
        gates.arrived.setdefault(name, asyncio.Event()).set()
        await gates.gate(name).wait()
        return {"name": name}

    async with client_for(app) as c:
        yield gates, c


def one_at_a_time(*, hold: float = 30.0, queue: float = 30.0) -> pytest.MarkDecorator:
    """Run the test with one request at work at a time, held at most `hold` s, queued at most `queue` s."""
    settings = {"request_concurrency": 1, "request_hold_seconds": hold, "request_queue_seconds": queue}
    return pytest.mark.parametrize("settings_overrides", [settings], indirect=True)


@one_at_a_time()
async def test_requests_beyond_the_limit_wait_and_run_in_arrival_order(
    gated: tuple[Gates, httpx.AsyncClient],
) -> None:
    gates, c = gated
    first = asyncio.create_task(c.get("/admission/first"))
    await gates.inside("first")
    later = []
    for name in ("second", "third"):
        later.append(asyncio.create_task(c.get(f"/admission/{name}")))
        await asyncio.sleep(0.02)  # arrives after the one before
    for name in ("second", "third"):
        gates.gate(name).set()  # ready to finish at once, but not let in yet
    await asyncio.sleep(0.05)
    assert gates.entered == ["first"]

    gates.gate("first").set()
    responses = await asyncio.gather(first, *later)

    assert [r.json()["name"] for r in responses] == ["first", "second", "third"]
    assert gates.entered == ["first", "second", "third"]


@one_at_a_time()
async def test_the_health_check_answers_while_every_turn_is_taken(gated: tuple[Gates, httpx.AsyncClient]) -> None:
    gates, c = gated
    held = asyncio.create_task(c.get("/admission/busy"))
    await gates.inside("busy")

    async with asyncio.timeout(2):
        health = await c.get("/health")

    assert health.status_code == 200
    gates.gate("busy").set()
    assert (await held).status_code == 200


@one_at_a_time(hold=0.05)
async def test_a_request_that_takes_long_stops_holding_its_turn(gated: tuple[Gates, httpx.AsyncClient]) -> None:
    gates, c = gated
    slow = asyncio.create_task(c.get("/admission/slow"))
    await gates.inside("slow")
    gates.gate("quick").set()

    async with asyncio.timeout(2):  # let in once the slow one has held its turn for 0.05 s
        quick = await c.get("/admission/quick")

    assert quick.json() == {"name": "quick"}
    assert not slow.done()
    gates.gate("slow").set()
    assert (await slow).status_code == 200


@one_at_a_time(queue=0.05)
async def test_a_request_that_waited_too_long_is_answered_503_without_running(
    gated: tuple[Gates, httpx.AsyncClient],
) -> None:
    gates, c = gated
    held = asyncio.create_task(c.get("/admission/held"))
    await gates.inside("held")

    refused = await c.get("/admission/refused")

    body = assert_problem(refused, 503, "SERVER_BUSY")
    assert body["request_id"] == refused.headers["x-request-id"]
    assert refused.headers["retry-after"] == "1"
    assert gates.entered == ["held"]  # never ran
    gates.gate("held").set()
    assert (await held).status_code == 200
    gates.gate("later").set()
    assert (await c.get("/admission/later")).status_code == 200  # the turn was given back
