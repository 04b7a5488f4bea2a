"""Every error the API gives is an RFC 9457 problem body with a stable code and the request id."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from src.core.clock import FrozenClock
from src.core.errors import Conflict
from src.core.logging import JsonFormatter
from src.core.outbox import OutboxMessage
from src.database import SessionFactory
from src.dependencies import UoWDep
from tests.conftest import client_for
from tests.factories import anonymous_user

PROBLEM_FIELDS = {"type", "title", "status", "detail", "code", "request_id"}


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert PROBLEM_FIELDS <= body.keys()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"] == "https://ugoki.app/problems/" + code.lower().replace("_", "-")
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body["request_id"]
    assert response.headers["x-request-id"] == body["request_id"]
    return body


async def _count_outbox(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(OutboxMessage))).scalar_one())


async def test_unknown_route_returns_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/no-such-thing")

    body = assert_problem(response, 404, "NOT_FOUND")
    assert body["detail"] == "No such route"


async def test_wrong_method_returns_405_problem_with_allow_header(client: httpx.AsyncClient) -> None:
    response = await client.delete("/health")

    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["allow"]


async def test_malformed_json_returns_422_validation_problem_with_errors(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/identity/register",
        content=b'{"email": "a@example.com", "password": ',
        headers={"Content-Type": "application/json"},
    )

    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert body["errors"]
    for error in body["errors"]:
        assert set(error) == {"loc", "msg", "type"}
    assert body["errors"][0]["type"] == "json_invalid"
    assert body["errors"][0]["loc"][0] == "body"


async def test_wrong_body_types_return_422_naming_each_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/identity/register", json={"email": 42, "password": ["not", "a", "string"]})

    body = assert_problem(response, 422, "VALIDATION_ERROR")
    locations = {tuple(error["loc"]) for error in body["errors"]}
    assert ("body", "email") in locations
    assert ("body", "password") in locations
    assert body["detail"].startswith("body.")


async def test_wrong_query_type_returns_422_naming_the_parameter(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    response = await client.get("/api/v1/events", params={"limit": "many"}, headers=user.headers)

    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert body["errors"][0]["loc"] == ["query", "limit"]


async def test_validation_problem_does_not_echo_submitted_values(client: httpx.AsyncClient) -> None:
    secret = "hunter2-but-far-too-long-" * 10
    response = await client.post("/api/v1/identity/register", json={"email": "not-an-email", "password": secret})

    assert_problem(response, 422, "VALIDATION_ERROR")
    assert secret not in response.text


async def test_missing_token_returns_401_problem_with_bearer_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/identity/me")

    assert_problem(response, 401, "UNAUTHORIZED")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_unhandled_exception_returns_500_problem_without_internals(app: FastAPI) -> None:
    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals: password=swordfish")

    async with client_for(app) as c:
        response = await c.get("/boom")

    body = assert_problem(response, 500, "INTERNAL_ERROR")
    assert "swordfish" not in response.text
    assert "RuntimeError" not in response.text
    assert "Traceback" not in response.text
    assert "request id" in body["detail"]


async def test_unhandled_exception_keeps_the_callers_request_id(app: FastAPI) -> None:
    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    async with client_for(app) as c:
        response = await c.get("/boom", headers={"X-Request-ID": "mobile-req-0001"})

    body = assert_problem(response, 500, "INTERNAL_ERROR")
    assert body["request_id"] == "mobile-req-0001"


async def test_unhandled_exception_is_logged_with_the_request_id(app: FastAPI) -> None:
    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom in the handler")

    lines: list[dict[str, Any]] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            # Formatted at emission time, as the production JSON handler does.
            lines.append(json.loads(JsonFormatter().format(record)))

    collector = Collect(level=logging.ERROR)
    errors_logger = logging.getLogger("ugoki.errors")
    errors_logger.addHandler(collector)
    try:
        async with client_for(app) as c:
            response = await c.get("/boom", headers={"X-Request-ID": "trace-me-42"})
    finally:
        errors_logger.removeHandler(collector)

    assert response.status_code == 500
    failures = [line for line in lines if "exc" in line]
    assert failures, "the unhandled error was not logged with its traceback"
    assert all(line.get("request_id") == "trace-me-42" for line in failures)


async def test_integrity_error_in_handler_returns_409_and_saves_nothing(
    app: FastAPI, engine: AsyncEngine, clock: FrozenClock
) -> None:
    duplicate = uuid.uuid4()

    @app.post("/race")
    async def race(uow: UoWDep) -> None:
        row = {"topic": "t", "payload": {}, "created_at": clock.now(), "available_at": clock.now(), "attempts": 0}
        await uow.session.execute(insert(OutboxMessage).values(id=uuid.uuid4(), **row))
        await uow.session.execute(insert(OutboxMessage).values(id=duplicate, **row))
        await uow.session.execute(insert(OutboxMessage).values(id=duplicate, **row))

    async with client_for(app) as c:
        response = await c.post("/race")

    assert_problem(response, 409, "CONFLICT")
    assert "nothing was saved" in response.json()["detail"]
    assert await _count_outbox(engine) == 0


async def test_integrity_error_at_commit_returns_409_not_500(
    app: FastAPI, engine: AsyncEngine, clock: FrozenClock
) -> None:
    taken = uuid.uuid4()
    async with app.state.sessions.writer() as session:
        session.add(OutboxMessage(id=taken, topic="t", payload={}, created_at=clock.now(), available_at=clock.now()))
        await session.commit()

    @app.post("/late-race")
    async def late_race(uow: UoWDep) -> dict[str, str]:
        # Not flushed here: the conflict surfaces only when the unit of work commits.
        uow.session.add(
            OutboxMessage(id=taken, topic="again", payload={}, created_at=clock.now(), available_at=clock.now())
        )
        return {"status": "queued"}

    async with client_for(app) as c:
        response = await c.post("/late-race")

    assert_problem(response, 409, "CONFLICT")
    assert await _count_outbox(engine) == 1


# Valid on the wire, but 23:59 at UTC-1 on the last day of year 9999 has no UTC form.
BEYOND_UTC = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-1)))


async def test_value_a_column_cannot_bind_returns_422_and_saves_nothing(
    app: FastAPI, engine: AsyncEngine, clock: FrozenClock
) -> None:
    @app.post("/far-future")
    async def far_future(uow: UoWDep) -> None:
        await uow.session.execute(
            insert(OutboxMessage).values(
                id=uuid.uuid4(), topic="t", payload={}, created_at=clock.now(), available_at=clock.now(), attempts=0
            )
        )
        await uow.session.execute(
            insert(OutboxMessage).values(
                id=uuid.uuid4(), topic="t", payload={}, created_at=clock.now(), available_at=BEYOND_UTC, attempts=0
            )
        )

    async with client_for(app) as c:
        response = await c.post("/far-future")

    body = assert_problem(response, 422, "INVALID_VALUE")
    assert "nothing was saved" in body["detail"]
    assert await _count_outbox(engine) == 0


async def test_value_a_column_cannot_bind_at_commit_returns_422_not_500(
    app: FastAPI, engine: AsyncEngine, clock: FrozenClock
) -> None:
    @app.post("/far-future-late")
    async def far_future_late(uow: UoWDep) -> dict[str, str]:
        # Not flushed here: the value is bound only when the unit of work commits.
        uow.session.add(OutboxMessage(topic="t", payload={}, created_at=clock.now(), available_at=BEYOND_UTC))
        return {"status": "queued"}

    async with client_for(app) as c:
        response = await c.post("/far-future-late")

    assert_problem(response, 422, "INVALID_VALUE")
    assert await _count_outbox(engine) == 0


async def test_bind_error_that_is_not_about_a_value_stays_a_500(app: FastAPI, clock: FrozenClock) -> None:
    @app.post("/wrong-type")
    async def wrong_type(uow: UoWDep) -> None:
        # A bug: a string where the column wants a datetime.
        await uow.session.execute(
            insert(OutboxMessage).values(
                id=uuid.uuid4(), topic="t", payload={}, created_at="soon", available_at=clock.now(), attempts=0
            )
        )

    async with client_for(app) as c:
        response = await c.post("/wrong-type")

    assert_problem(response, 500, "INTERNAL_ERROR")


async def test_app_error_renders_its_code_and_extra_fields(app: FastAPI) -> None:
    class WindowAlreadyActive(Conflict):
        code = "WINDOW_ALREADY_ACTIVE"

    @app.post("/conflict")
    async def conflict() -> None:
        raise WindowAlreadyActive("A fast is already running", extra={"active_id": "abc", "status": 200})

    async with client_for(app) as c:
        response = await c.post("/conflict")

    body = assert_problem(response, 409, "WINDOW_ALREADY_ACTIVE")
    assert body["detail"] == "A fast is already running"
    assert body["active_id"] == "abc"


def _dead_engine(database_url: str, tmp_dir: Path) -> AsyncEngine:
    """An engine of the same kind as the test database that cannot connect."""
    if database_url.startswith("postgresql"):
        return create_async_engine("postgresql+asyncpg://postgres@127.0.0.1:1/ugoki_nowhere")
    return create_async_engine(f"sqlite+aiosqlite:///{tmp_dir}/missing-directory/ugoki.db")


@asynccontextmanager
async def database_down(app: FastAPI, database_url: str, tmp_dir: Path) -> AsyncIterator[None]:
    """While inside, the running app's database is unreachable."""
    healthy = app.state.sessions
    dead = _dead_engine(database_url, tmp_dir)
    app.state.sessions = SessionFactory(dead)
    try:
        yield
    finally:
        app.state.sessions = healthy
        await dead.dispose()


async def test_readiness_returns_503_when_database_is_unreachable(
    app: FastAPI, client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    async with database_down(app, database_url, tmp_path):
        response = await client.get("/health/ready")

    assert_problem(response, 503, "DATABASE_UNAVAILABLE")
    assert response.headers["retry-after"] == "5"


async def test_readiness_returns_200_when_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok"}


async def test_liveness_stays_200_when_database_is_unreachable(
    app: FastAPI, client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    async with database_down(app, database_url, tmp_path):
        response = await client.get("/health")

    assert response.status_code == 200
    assert response.json()["status"] == "healthy"


async def test_authenticated_request_returns_503_not_500_when_database_is_unreachable(
    app: FastAPI, client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    user = await anonymous_user(app)

    async with database_down(app, database_url, tmp_path):
        response = await client.get("/api/v1/identity/me", headers=user.headers)

    assert_problem(response, 503, "DATABASE_UNAVAILABLE")
    assert response.headers["retry-after"]
