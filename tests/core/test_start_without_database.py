"""The API starts when its database is unreachable: `/health` answers (alive), `/health/ready`
answers 503 until the database can be reached, and then start-up finishes on its own."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from src.main import create_app
from tests.conftest import make_settings
from tests.http import assert_problem


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _url_on_port(database_url: str, port: int) -> str:
    url = make_url(database_url).set(host="127.0.0.1", port=port)
    return url.render_as_string(hide_password=False)


@contextlib.asynccontextmanager
async def _forwarder(port: int, target_host: str, target_port: int) -> AsyncIterator[None]:
    """A TCP relay on `port` to the real database: the database 'comes back'."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(target_host, target_port)
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    try:
        yield
    finally:
        server.close()


async def test_the_api_starts_and_serves_its_probes_while_the_database_is_unreachable(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{_free_port()}/ugoki_test_unreachable"
    app = create_app(make_settings(url, data_dir=tmp_path, seed_on_startup=True))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            alive = await client.get("/health")
            assert alive.status_code == 200
            assert alive.json()["status"] == "healthy"
            not_ready = await client.get("/health/ready")
            assert_problem(not_ready, 503, "DATABASE_UNAVAILABLE")
            assert not_ready.headers["retry-after"] == "5"


async def test_start_up_finishes_once_the_database_answers(
    database_url: str, engine: AsyncEngine, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("needs a database reachable over TCP")
    real = make_url(database_url)
    port = _free_port()
    app = create_app(make_settings(_url_on_port(database_url, port), data_dir=tmp_path, seed_on_startup=True))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            assert (await client.get("/health/ready")).status_code == 503
            async with _forwarder(port, real.host or "127.0.0.1", real.port or 5432):
                status = 503
                for _ in range(60):
                    await asyncio.sleep(0.5)
                    status = (await client.get("/health/ready")).status_code
                    if status == 200:
                        break
                assert status == 200
