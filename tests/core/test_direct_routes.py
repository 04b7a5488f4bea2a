"""The polled read routes answered directly (`src/direct.py`): the same answers, checks and errors
as the ordinary FastAPI path, which takes every request the direct path does not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from src.core.clock import FrozenClock
from src.core.errors import NotFound
from src.core.lean import DRIVER_READS, HotQuery
from src.dependencies import CurrentIdentity, UoWDep
from src.direct import DirectRoutes, NotDirectable, direct, install_direct_routes
from src.main import create_app
from src.modules.identity.service import IdentityService
from src.modules.time_keeper.orm import TimeWindowRow
from tests.conftest import client_for, make_settings
from tests.factories import anonymous_user
from tests.http import assert_problem, ok
from tests.progression.helpers import open_fast

API = "/api/v1"
ACTIVE = f"{API}/time-keeper/windows/active"
ME = f"{API}/identity/me"
OVERVIEW = f"{API}/progression/overview"


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the direct path answered (rather than leaving them to the ordinary one)."""
    paths: list[str] = []
    original = DirectRoutes._answer

    async def spy(self: DirectRoutes, plan: Any, scope: Any, receive: Any, send: Any) -> bool:
        done = await original(self, plan, scope, receive, send)
        if done:
            paths.append(scope["path"])
        return done

    monkeypatch.setattr(DirectRoutes, "_answer", spy)
    return paths


@pytest.fixture
async def ordinary_app(engine: AsyncEngine, database_url: str, clock: FrozenClock) -> AsyncIterator[FastAPI]:
    """The same app on the same database with direct routes off."""
    application = create_app(make_settings(database_url, direct_routes=False), clock=clock, engine=engine)
    async with application.router.lifespan_context(application):
        yield application


async def test_direct_answers_are_byte_for_byte_the_ordinary_ones(
    app: FastAPI, client: httpx.AsyncClient, ordinary_app: FastAPI, answered: list[str]
) -> None:
    user = await anonymous_user(app)
    await open_fast(client, user)
    requests = [
        (ACTIVE, {}),
        (ACTIVE, {"window_type": "fast"}),
        (ACTIVE, {"window_type": "eating"}),  # none running: null
        (ME, {}),
        (OVERVIEW, {}),
    ]
    async with client_for(ordinary_app) as ordinary:
        for path, params in requests:
            await client.get(path, params=params, headers=user.headers)  # the caller is cached from here on
            fast = await client.get(path, params=params, headers=user.headers)
            slow = await ordinary.get(path, params=params, headers=user.headers)
            assert fast.status_code == slow.status_code == 200
            assert fast.content == slow.content, path
            assert fast.headers["content-type"] == slow.headers["content-type"] == "application/json"
            assert fast.headers["content-length"] == slow.headers["content-length"]
            assert fast.headers["x-request-id"]
    assert answered.count(ACTIVE) >= 6
    assert ME in answered
    assert OVERVIEW in answered
    assert (await client.get(ACTIVE, params={"window_type": "eating"}, headers=user.headers)).json() is None


async def test_a_session_ended_on_another_route_is_refused_at_once(
    app: FastAPI, client: httpx.AsyncClient, answered: list[str]
) -> None:
    user = await anonymous_user(app)
    ok(await client.get(ME, headers=user.headers))
    ok(await client.get(ME, headers=user.headers))
    assert ME in answered

    ok(await client.post(f"{API}/identity/logout", headers=user.headers))

    assert_problem(await client.get(ME, headers=user.headers), 401)
    assert_problem(await client.get(ACTIVE, headers=user.headers), 401)


async def test_bad_tokens_and_parameters_get_the_ordinary_problem_answers(
    app: FastAPI, client: httpx.AsyncClient, answered: list[str]
) -> None:
    user = await anonymous_user(app)
    ok(await client.get(ACTIVE, headers=user.headers))
    assert answered == [ACTIVE]
    answered.clear()

    invalid = await client.get(ACTIVE, params={"window_type": "nap"}, headers=user.headers)
    assert_problem(invalid, 422)
    assert "window_type" in invalid.text
    assert_problem(await client.get(ACTIVE), 401)
    assert_problem(await client.get(ACTIVE, headers={"Authorization": "Bearer not-a-token"}), 401)
    assert_problem(await client.get(ACTIVE, headers={"Authorization": f"Basic {user.access_token}"}), 401)
    assert answered == []  # none of these was answered directly: the ordinary path refused them


async def test_an_error_raised_by_the_endpoint_is_answered_by_the_app_handlers(
    app: FastAPI, client: httpx.AsyncClient, answered: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await anonymous_user(app)
    ok(await client.get(ME, headers=user.headers))

    async def gone(self: IdentityService, identity_id: Any) -> Any:
        raise NotFound("Identity not found")

    monkeypatch.setattr(IdentityService, "get_identity", gone)
    response = await client.get(ME, headers=user.headers)

    assert_problem(response, 404, "NOT_FOUND")
    assert answered == [ME, ME]


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_default": "3/hour"}])
async def test_direct_and_ordinary_requests_count_against_one_rate_limit(
    app: FastAPI, client: httpx.AsyncClient, answered: list[str]
) -> None:
    user = await anonymous_user(app)
    # Refused with 422 on the ordinary path, and counted there.
    assert_problem(await client.get(ACTIVE, params={"window_type": "nap"}, headers=user.headers), 422)
    for _ in range(2):
        ok(await client.get(ACTIVE, headers=user.headers))

    refused = await client.get(ACTIVE, headers=user.headers)

    body = assert_problem(refused, 429, "RATE_LIMITED")
    assert int(refused.headers["retry-after"]) == body["retry_after"]
    assert answered == [ACTIVE] * 3  # two answers and the refusal
    assert ok(await client.get(OVERVIEW, headers=user.headers))  # another route has its own count


def _app_with(route: Any) -> FastAPI:
    application = FastAPI()
    application.get("/x")(direct(route))
    return application


async def _takes_request(request: Request, uow: UoWDep, me: CurrentIdentity) -> None:
    return None


async def _no_caller(uow: UoWDep) -> None:
    return None


def _sync_endpoint(uow: UoWDep, me: CurrentIdentity) -> None:
    return None


@pytest.mark.parametrize(
    ("endpoint", "reason"),
    [
        (_takes_request, "takes the request"),
        (_no_caller, "must take the unit of work and the signed-in caller"),
        (_sync_endpoint, "not a coroutine function"),
    ],
)
def test_a_route_the_direct_path_cannot_answer_is_refused_when_the_app_is_built(endpoint: Any, reason: str) -> None:
    with pytest.raises(NotDirectable, match=reason):
        install_direct_routes(_app_with(endpoint))


def test_a_route_with_path_parameters_is_refused() -> None:
    application = FastAPI()

    async def item(item_id: int, uow: UoWDep, me: CurrentIdentity) -> None:
        return None

    application.get("/items/{item_id}")(direct(item))
    with pytest.raises(NotDirectable, match="path, header, cookie or body"):
        install_direct_routes(application)


@dataclass
class PoolUse:
    checkouts: int = 0
    held: int = 0
    most_held: int = 0


@contextmanager
def pool_use(app: FastAPI) -> Iterator[PoolUse]:
    """Connections taken from (and given back to) the pool of the app's reader sessions."""
    pool = app.state.sessions.engine.sync_engine.pool
    use = PoolUse()

    def out(*_args: Any) -> None:
        use.checkouts += 1
        use.held += 1
        use.most_held = max(use.most_held, use.held)

    def back(*_args: Any) -> None:
        use.held -= 1

    event.listen(pool, "checkout", out)
    event.listen(pool, "checkin", back)
    try:
        yield use
    finally:
        event.remove(pool, "checkout", out)
        event.remove(pool, "checkin", back)


async def test_a_direct_read_takes_at_most_one_pooled_connection_and_gives_it_back(
    app: FastAPI, client: httpx.AsyncClient, answered: list[str]
) -> None:
    user = await anonymous_user(app)
    await open_fast(client, user)
    app.state.resources.principals.drop_identity(UUID(user.id))  # the first read also looks the caller up
    # PostgreSQL: one pooled connection; SQLite: none (the process's read-only connection).
    expected = 1 if app.state.sessions.engine.dialect.name == "postgresql" else 0
    for path in (ACTIVE, ACTIVE, ME, OVERVIEW):
        with pool_use(app) as use:
            assert ok(await client.get(path, headers=user.headers))
        assert (use.checkouts, use.held) == (expected, 0), path
    assert answered == [ACTIVE, ACTIVE, ME, OVERVIEW]


async def test_a_session_with_driver_reads_never_holds_two_connections(app: FastAPI) -> None:
    """Hot reads on the driver connection, then an ORM read (the session takes its own), then hot
    reads again (on the session's): one connection at a time, and the same answers."""
    sessions = app.state.sessions
    session = sessions.reader()
    reads = sessions.driver_reads()
    if reads is not None:
        session.info[DRIVER_READS] = reads
    query = HotQuery(lambda: select(TimeWindowRow.id).limit(1))
    with pool_use(app) as use:
        try:
            before = await query.all(session)
            orm = (await session.execute(select(TimeWindowRow.id).limit(1))).all()
            after = await query.all(session)
            await session.commit()
        finally:
            await session.close()
            if reads is not None:
                await reads.release()
    assert list(before) == list(after) == [tuple(row) for row in orm]
    assert use.most_held == 1
    assert use.held == 0
    on_postgres = app.state.sessions.engine.dialect.name == "postgresql"
    assert use.checkouts == (2 if on_postgres else 1)
