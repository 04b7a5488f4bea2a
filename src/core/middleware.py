"""Pure ASGI middleware (no BaseHTTPMiddleware on the hot path).

`RequestContextMiddleware`: request id in (`X-Request-ID`, when well-formed) and out, on every
response; a structured access-log line (method, route template, status, duration; never query
strings, bodies or headers) for every failed (status 400 and above) or slow request, and for one in
`sample_every` of the others (`ACCESS_LOG_SAMPLE_EVERY`, 20 by default; 1 logs every request).

`BodyLimitMiddleware`: refuses request bodies over the limit with a 413 problem body, from the
`Content-Length` header when there is one and while streaming otherwise. Path prefixes may have
their own (larger) limit, e.g. uploads.

`AdmissionMiddleware`: at most so many requests of the process at work at once; the others wait
their turn in arrival order (see its text).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from src.core.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE, STATUS_TITLES
from src.core.logging import request_id_var

access_logger = logging.getLogger("ugoki.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


SLOW_REQUEST_MS = 1_000.0  # always logged


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp, *, sample_every: int = 1) -> None:
        self.app = app
        self.sample_every = max(sample_every, 1)
        self._unlogged = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = _header(scope, b"x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        raw_id = request_id.encode()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", raw_id))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            duration_ms = round((time.perf_counter() - started) * 1000, 2)
            if status < 400 and duration_ms < SLOW_REQUEST_MS and self.sample_every > 1:
                self._unlogged += 1
                sampled = self._unlogged >= self.sample_every
                if sampled:
                    self._unlogged = 0
            else:
                sampled = True
            if sampled and access_logger.isEnabledFor(logging.INFO):
                self._log(scope, status, duration_ms)
            request_id_var.reset(token)

    def _log(self, scope: Scope, status: int, duration_ms: float) -> None:
        route = scope.get("route")
        state = scope.get("state", {})
        access_logger.info(
            "request",
            extra={
                "method": scope.get("method"),
                "route": getattr(route, "path", None) or "unmatched",
                "status": status,
                "duration_ms": duration_ms,
                "identity_id": str(state["identity_id"]) if state.get("identity_id") else None,
                "sampled_one_in": self.sample_every if status < 400 else 1,
            },
        )


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, default: int, prefixes: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.prefixes = sorted((prefixes or {}).items(), key=lambda kv: -len(kv[0]))

    def limit_for(self, path: str) -> int:
        for prefix, limit in self.prefixes:
            if path.startswith(prefix):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope.get("path", ""))
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > limit
            except ValueError:
                too_big = False
            if too_big:
                await _send_413(scope, send, limit)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, f"Request body exceeds {limit} bytes")
            return message

        await self.app(scope, limited_receive, send)


class AdmissionMiddleware:
    """At most `limit` requests of this process at work at once; the others wait for a turn in
    arrival order.

    Why: one event loop interleaves every request it has accepted. Under load each await of a
    request (a statement, a read of the body) waits for all the others' work in between, so a
    request of a dozen statements (a weigh-in and what it credits) takes a dozen times as long as
    a read of one, and the tail latency of the mix is set by it. With a few requests at work and
    the rest queued first come, first served, every request waits about as long in the queue and
    then runs through quickly: the same throughput with a far shorter tail (measured in
    bench/wrk.py's mix, README).

    - A request gives its turn back when its response starts (a stream then goes on outside the
      count), when it ends, or after `hold_seconds` at most: a request that takes long (an upload
      arriving slowly, a reply awaited from an outside service, an export) stops counting then,
      so slow requests can delay the others by that much, never block them.
    - A request that waited `queue_seconds` for a turn is answered 503 (`Retry-After`) without
      running: the process is saturated, and a queue that only grows helps no one.
    - Paths under `exempt` prefixes (the health checks) never wait.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        limit: int,
        hold_seconds: float,
        queue_seconds: float,
        exempt: tuple[str, ...] = ("/health",),
    ) -> None:
        self.app = app
        self.hold_seconds = hold_seconds
        self.queue_seconds = queue_seconds
        self.exempt = exempt
        self._turns = asyncio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.exempt):
            await self.app(scope, receive, send)
            return
        turns = self._turns
        if turns.locked():
            try:
                async with asyncio.timeout(self.queue_seconds):
                    await turns.acquire()
            except TimeoutError:
                await _send_problem(
                    scope, send, 503, "SERVER_BUSY", "Too many requests at once; try again shortly", retry_after=1
                )
                return
        else:
            await turns.acquire()  # free: taken without waiting
        held = True

        def give_back() -> None:
            nonlocal held
            if held:
                held = False
                turns.release()

        timer = asyncio.get_running_loop().call_later(self.hold_seconds, give_back)

        async def send_releasing(message: Message) -> None:
            if held and message["type"] == "http.response.start":
                give_back()
            await send(message)

        try:
            await self.app(scope, receive, send_releasing)
        finally:
            timer.cancel()
            give_back()


async def _send_413(scope: Scope, send: Send, limit: int) -> None:
    await _send_problem(scope, send, 413, "PAYLOAD_TOO_LARGE", f"Request body exceeds {limit} bytes", close=True)


async def _send_problem(
    scope: Scope,
    send: Send,
    status: int,
    code: str,
    detail: str,
    *,
    close: bool = False,
    retry_after: int | None = None,
) -> None:
    """A problem body (as `src.core.errors.problem_response` writes them) from middleware that
    answers before the app."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code.lower().replace("_", "-"),
        "title": STATUS_TITLES[status][1],
        "status": status,
        "detail": detail,
        "code": code,
        "request_id": scope.get("state", {}).get("request_id"),
    }
    raw = json.dumps(body).encode()
    headers = [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(raw)).encode())]
    if close:
        headers.append((b"connection", b"close"))
    if retry_after is not None:
        headers.append((b"retry-after", str(retry_after).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return None
