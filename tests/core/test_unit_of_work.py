"""One unit of work per request: committed when the handler returns, rolled back when it raises,
except for errors that must keep security-relevant writes."""

from __future__ import annotations

import uuid

from fastapi import FastAPI
from sqlalchemy import select

from src.core.errors import Conflict, Unauthorized
from src.core.outbox import OutboxMessage
from src.dependencies import UoWDep, WritingUoWDep
from tests.conftest import client_for


class FamilyRevoked(Unauthorized):
    code = "TOKEN_REUSED"
    commit_transaction = True


class AlreadyDone(Conflict):
    code = "ALREADY_DONE"


async def _topics(app: FastAPI) -> list[str]:
    async with app.state.sessions.reader() as session:
        return sorted((await session.execute(select(OutboxMessage.topic))).scalars())


async def test_write_is_committed_when_the_handler_returns(app: FastAPI) -> None:
    @app.post("/write")
    async def write(uow: UoWDep) -> dict[str, str]:
        uow.enqueue("kept", {})
        return {"status": "ok"}

    async with client_for(app) as c:
        response = await c.post("/write")

    assert response.status_code == 200
    assert await _topics(app) == ["kept"]


async def test_write_is_rolled_back_when_the_handler_raises(app: FastAPI) -> None:
    @app.post("/write-then-crash")
    async def write_then_crash(uow: UoWDep) -> None:
        uow.enqueue("lost", {})
        await uow.session.flush()
        raise RuntimeError("crash after writing")

    async with client_for(app) as c:
        response = await c.post("/write-then-crash")

    assert response.status_code == 500
    assert await _topics(app) == []


async def test_write_is_rolled_back_when_the_handler_raises_a_domain_error(app: FastAPI) -> None:
    @app.post("/write-then-conflict")
    async def write_then_conflict(uow: UoWDep) -> None:
        uow.enqueue("lost", {})
        await uow.session.flush()
        raise AlreadyDone("Already done")

    async with client_for(app) as c:
        response = await c.post("/write-then-conflict")

    assert response.status_code == 409
    assert response.json()["code"] == "ALREADY_DONE"
    assert await _topics(app) == []


async def test_error_marked_commit_transaction_keeps_the_write(app: FastAPI) -> None:
    @app.post("/revoke-then-refuse")
    async def revoke_then_refuse(uow: UoWDep) -> None:
        uow.enqueue("family.revoked", {})
        raise FamilyRevoked("Refresh token reused; the session has been ended")

    async with client_for(app) as c:
        response = await c.post("/revoke-then-refuse")

    assert response.status_code == 401
    assert response.json()["code"] == "TOKEN_REUSED"
    assert response.headers["www-authenticate"] == "Bearer"
    assert await _topics(app) == ["family.revoked"]


async def test_write_in_a_get_request_is_committed_with_a_writing_unit_of_work(app: FastAPI) -> None:
    @app.get("/touch")
    async def touch(uow: WritingUoWDep) -> dict[str, str]:
        uow.enqueue("touched", {})
        return {"status": "ok"}

    async with client_for(app) as c:
        response = await c.get("/touch")

    assert response.status_code == 200
    assert await _topics(app) == ["touched"]


async def test_write_in_a_get_request_with_a_reading_unit_of_work_is_refused(app: FastAPI) -> None:
    @app.get("/touch")
    async def touch(uow: UoWDep) -> dict[str, str]:
        uow.enqueue("touched", {})
        return {"status": "ok"}

    async with client_for(app) as c:
        response = await c.get("/touch")

    assert response.status_code == 500  # a bug in the endpoint, not the client's fault
    assert await _topics(app) == []


async def test_each_request_gets_its_own_unit_of_work(app: FastAPI) -> None:
    seen: list[int] = []

    @app.post("/which")
    async def which(uow: UoWDep) -> dict[str, int]:
        seen.append(id(uow.session))
        return {"enqueued": uow.enqueued}

    async with client_for(app) as c:
        await c.post("/which")
        await c.post("/which")

    assert len(set(seen)) == 2


async def test_failed_request_does_not_undo_an_earlier_committed_request(app: FastAPI) -> None:
    marker = str(uuid.uuid4())

    @app.post("/step/{n}")
    async def step(uow: UoWDep, n: int) -> dict[str, int]:
        uow.enqueue(f"{marker}:{n}", {})
        if n == 2:
            await uow.session.flush()
            raise RuntimeError("second step failed")
        return {"n": n}

    async with client_for(app) as c:
        assert (await c.post("/step/1")).status_code == 200
        assert (await c.post("/step/2")).status_code == 500

    assert await _topics(app) == [f"{marker}:1"]
