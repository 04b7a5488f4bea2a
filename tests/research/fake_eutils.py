"""A local stand-in for NCBI E-utilities (esearch.fcgi, efetch.fcgi) speaking HTTP on a free
port, serving the recorded-format XML of `eutils_records`. Tests steer it: which PMIDs a term
finds, failures to answer first, a delay; it records every request it received."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import uvicorn

from .eutils_records import efetch_document, esearch_document

DEFAULT_PMIDS = ["39000001", "39000002", "39000003", "39000004", "39000006"]


@dataclass
class Received:
    path: str
    params: dict[str, str]
    at: float


@dataclass
class FakeEUtils:
    url: str = ""
    results: dict[str, list[str]] = field(default_factory=dict)  # substring of the term -> PMIDs
    extra_count: int = 100  # matches beyond the ids listed (esearch Count)
    failures: list[int] = field(default_factory=list)  # statuses to answer before succeeding
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)

    def reset(self) -> None:
        self.results.clear()
        self.failures.clear()
        self.delay = 0.0
        self.extra_count = 100
        self.requests.clear()

    def calls(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path.endswith(path)]

    def pmids_for(self, term: str) -> list[str]:
        for needle, pmids in self.results.items():
            if needle.lower() in term.lower():
                return pmids
        return DEFAULT_PMIDS

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        query = {k: v[-1] for k, v in parse_qs(scope.get("query_string", b"").decode()).items()}
        self.requests.append(Received(scope["path"], query, time.monotonic()))
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.failures:
            await _answer(send, self.failures.pop(0), "text/plain", b"temporarily unavailable")
            return
        if scope["path"].endswith("/esearch.fcgi"):
            pmids = self.pmids_for(query.get("term", ""))
            shown = pmids[: int(query.get("retmax", "20"))]
            body = esearch_document(shown, len(pmids) + self.extra_count)
        elif scope["path"].endswith("/efetch.fcgi"):
            body = efetch_document([p for p in query.get("id", "").split(",") if p])
        else:
            await _answer(send, 404, "text/plain", b"not found")
            return
        await _answer(send, 200, "text/xml; charset=UTF-8", body.encode())


async def _answer(send: Any, status: int, content_type: str, body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type.encode())]})
    await send({"type": "http.response.body", "body": body})


class ServerThread:
    """Runs an ASGI app with uvicorn on 127.0.0.1 and a free port, in a background thread."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("fake server did not start")
            time.sleep(0.01)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
