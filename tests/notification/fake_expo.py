"""A local stand-in for the Expo push API (`/send`, `/getReceipts`), served over real HTTP on a
free port: it answers like Expo (tickets, receipts, DeviceNotRegistered, 429/5xx) and records
every message it accepted."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class FakeExpo:
    received: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    batch_sizes: list[int] = field(default_factory=list)
    auth_headers: list[str | None] = field(default_factory=list)
    unregistered: set[str] = field(default_factory=set)  # tokens answered DeviceNotRegistered in the ticket
    unregistered_in_receipt: set[str] = field(default_factory=set)
    fail_next: list[int] = field(default_factory=list)  # statuses to answer before succeeding
    tickets: dict[str, str] = field(default_factory=dict)  # ticket id → token
    receipt_requests: list[list[str]] = field(default_factory=list)
    url: str = ""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def pushed_to(self, token: str) -> list[dict[str, Any]]:
        return [m for m in self.received if m["to"] == token]

    async def send(self, request: Request) -> JSONResponse:
        self.requests += 1
        self.auth_headers.append(request.headers.get("authorization"))
        if self.fail_next:
            status = self.fail_next.pop(0)
            return JSONResponse({"errors": [{"code": "SERVER_ERROR", "message": "try later"}]}, status_code=status)
        body = await request.json()
        messages = body if isinstance(body, list) else [body]
        if len(messages) > 100:
            return JSONResponse(
                {"errors": [{"code": "PUSH_TOO_MANY_NOTIFICATIONS", "message": "max 100"}]}, status_code=400
            )
        self.batch_sizes.append(len(messages))
        data = []
        for message in messages:
            token = message["to"]
            if token in self.unregistered:
                data.append(
                    {
                        "status": "error",
                        "message": f'"{token}" is not a registered push notification recipient',
                        "details": {"error": "DeviceNotRegistered"},
                    }
                )
                continue
            self.received.append(message)
            ticket = f"ticket-{next(self._ids)}"
            self.tickets[ticket] = token
            data.append({"status": "ok", "id": ticket})
        return JSONResponse({"data": data})

    async def receipts(self, request: Request) -> JSONResponse:
        ids = (await request.json())["ids"]
        self.receipt_requests.append(ids)
        data: dict[str, Any] = {}
        for ticket in ids:
            token = self.tickets.get(ticket)
            if token is None:
                continue
            if token in self.unregistered_in_receipt:
                data[ticket] = {
                    "status": "error",
                    "message": "The device cannot receive push notifications anymore",
                    "details": {"error": "DeviceNotRegistered"},
                }
            else:
                data[ticket] = {"status": "ok"}
        return JSONResponse({"data": data})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/--/api/v2/push/send", self.send, methods=["POST"]),
                Route("/--/api/v2/push/getReceipts", self.receipts, methods=["POST"]),
            ]
        )


@contextlib.asynccontextmanager
async def serve_fake_expo() -> AsyncIterator[FakeExpo]:
    fake = FakeExpo()
    config = uvicorn.Config(fake.app(), host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(1000):  # until the socket is bound (uvicorn sets `started`)
        if server.started:
            break
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    fake.url = f"http://127.0.0.1:{port}/--/api/v2/push"
    try:
        yield fake
    finally:
        server.should_exit = True
        await task
