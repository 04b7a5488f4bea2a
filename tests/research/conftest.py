from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from fastapi import FastAPI

from src.core.uow import UnitOfWork
from src.modules.research.library import seed_library

from .fake_eutils import FakeEUtils, ServerThread


@pytest.fixture(scope="session")
def eutils_server() -> Iterator[FakeEUtils]:
    fake = FakeEUtils()
    thread = ServerThread(fake)
    fake.url = thread.start()
    yield fake
    thread.stop()


@pytest.fixture
def eutils(eutils_server: FakeEUtils) -> Iterator[FakeEUtils]:
    eutils_server.reset()
    yield eutils_server
    eutils_server.reset()


@pytest.fixture(autouse=True)
async def library(app: FastAPI) -> AsyncIterator[None]:
    """The starter library, as start-up seeds it (the suite empties research tables between tests)."""
    async with app.state.sessions.writer() as session:
        await seed_library(UnitOfWork(session=session, resources=app.state.resources))
        await session.commit()
    return
