"""A local stand-in for the Anthropic Messages API (`POST /v1/messages`).

It checks what the real service checks first (the `x-api-key` and `anthropic-version` headers,
a JSON body with `model`, `max_tokens` and user `messages`), records every request, and answers
in the real response shape. Tests set what it says: the transcription of an image or scanned
PDF, the JSON of an extraction, an HTTP error, or a delay (to exceed the client's timeout).
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

API_KEY = "test-anthropic-key"
API_VERSION = "2023-06-01"


@dataclass
class Exchange:
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def blocks(self) -> list[dict[str, Any]]:
        content = self.body["messages"][0]["content"]
        return content if isinstance(content, list) else [{"type": "text", "text": content}]

    @property
    def is_transcription(self) -> bool:
        return any(block.get("type") in ("image", "document") for block in self.blocks)

    @property
    def text(self) -> str:
        return "\n".join(block.get("text", "") for block in self.blocks if block.get("type") == "text")


@dataclass
class FakeAnthropic:
    base_url: str = ""
    transcript: str = ""
    extraction: str = "{}"
    status: int = 200
    delay: float = 0.0
    raw_reply: str | None = None  # sent as the whole body instead of a message
    exchanges: list[Exchange] = field(default_factory=list)
    _httpd: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    def reset(self) -> None:
        self.transcript = ""
        self.extraction = "{}"
        self.status = 200
        self.delay = 0.0
        self.raw_reply = None
        self.exchanges.clear()

    def settings(self, **overrides: object) -> dict[str, object]:
        values: dict[str, object] = {
            "llm_provider": "anthropic",
            "anthropic_api_key": API_KEY,
            "llm_base_url": self.base_url,
            "llm_model": "claude-test-model",
            "llm_timeout_seconds": 2.0,
        }
        values.update(overrides)
        return values

    def _answer(self, exchange: Exchange) -> tuple[int, bytes]:
        if self.delay:
            time.sleep(self.delay)
        if self.raw_reply is not None:
            return self.status, self.raw_reply.encode()
        if self.status != 200:
            error = {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}
            return self.status, json.dumps(error).encode()
        text = self.transcript if exchange.is_transcription else self.extraction
        message = {
            "id": f"msg_{uuid.uuid4().hex[:24]}",
            "type": "message",
            "role": "assistant",
            "model": exchange.body.get("model"),
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "usage": {"input_tokens": 100, "output_tokens": 50},
        }
        return 200, json.dumps(message).encode()

    def start(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _error(self, status: int, kind: str, message: str) -> None:
                body = {"type": "error", "error": {"type": kind, "message": message}}
                self._send(status, json.dumps(body).encode())

            def do_POST(self) -> None:
                if self.path != "/v1/messages":
                    self._error(404, "not_found_error", "Not found")
                    return
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                if self.headers.get("x-api-key") != API_KEY:
                    self._error(401, "authentication_error", "invalid x-api-key")
                    return
                if self.headers.get("anthropic-version") != API_VERSION:
                    self._error(400, "invalid_request_error", "anthropic-version header is required")
                    return
                if not (self.headers.get("content-type") or "").startswith("application/json"):
                    self._error(400, "invalid_request_error", "content-type must be application/json")
                    return
                try:
                    body = json.loads(raw)
                except ValueError:
                    self._error(400, "invalid_request_error", "body is not JSON")
                    return
                messages = body.get("messages")
                if (
                    not isinstance(body.get("model"), str)
                    or not isinstance(body.get("max_tokens"), int)
                    or not isinstance(messages, list)
                    or not messages
                    or messages[0].get("role") != "user"
                ):
                    self._error(400, "invalid_request_error", "model, max_tokens and messages are required")
                    return
                exchange = Exchange({k.lower(): v for k, v in self.headers.items()}, body)
                server.exchanges.append(exchange)
                status, payload = server._answer(exchange)
                try:
                    self._send(status, payload)
                except (BrokenPipeError, ConnectionResetError):
                    return  # the client gave up waiting (timeout tests)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        host, port = self._httpd.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fake-anthropic", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def unreachable_url() -> str:
    """A base URL on 127.0.0.1 where nothing listens (the port was free a moment ago)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
