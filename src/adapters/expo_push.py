"""Expo push API client (https://docs.expo.dev/push-notifications/sending-notifications/).

`send` posts messages to `{base}/send` in chunks of at most 100 and returns one ticket per
message, in order: `ok` with a ticket id, or `error` (e.g. `DeviceNotRegistered`). `receipts`
asks `{base}/getReceipts` (at most 1000 ids per request) whether the push services accepted them.
429 and 5xx answers (and transport errors) are retried with exponential back-off (honouring
`Retry-After`); when retries run out, `ExpoUnavailable` is raised so the caller retries later.
The access token is optional (needed only when the Expo project enforces push security).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

SEND_CHUNK = 100
RECEIPT_CHUNK = 1000
DEVICE_NOT_REGISTERED = "DeviceNotRegistered"


class ExpoPushError(Exception):
    """The Expo API refused the request itself (4xx other than 429): retrying will not help."""


class ExpoUnavailable(Exception):
    """Expo answered 429/5xx (or not at all) on every attempt: try again later."""


@dataclass(frozen=True)
class PushMessage:
    to: str
    title: str
    body: str
    data: dict[str, Any] = field(default_factory=dict)
    sound: str | None = "default"
    priority: str = "default"  # "default" | "normal" | "high"
    channel_id: str | None = None
    ttl_seconds: int | None = None

    def as_json(self) -> dict[str, Any]:
        message: dict[str, Any] = {"to": self.to, "title": self.title, "body": self.body, "priority": self.priority}
        if self.data:
            message["data"] = self.data
        if self.sound:
            message["sound"] = self.sound
        if self.channel_id:
            message["channelId"] = self.channel_id
        if self.ttl_seconds is not None:
            message["ttl"] = self.ttl_seconds
        return message


@dataclass(frozen=True)
class PushTicket:
    status: str  # "ok" | "error"
    id: str | None = None
    message: str | None = None
    error: str | None = None  # details.error, e.g. DeviceNotRegistered

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class PushReceipt:
    status: str
    message: str | None = None
    error: str | None = None


Sleep = Callable[[float], Awaitable[None]]


class ExpoPushClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str = "https://exp.host/--/api/v2/push",
        access_token: str | None = None,
        max_retries: int = 4,
        backoff_seconds: float = 0.5,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.http = http
        self.base_url = base_url.rstrip("/")
        self.access_token = access_token
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.sleep = sleep

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if self.access_token:
            headers["Authorization"] = f"Bearer {self.access_token}"
        return headers

    async def _post(self, path: str, body: Any) -> Any:
        for attempt in range(self.max_retries + 1):
            wait = self.backoff_seconds * 2**attempt * (1 + random.random() / 4)  # noqa: S311 - jitter
            try:
                response = await self.http.post(f"{self.base_url}{path}", json=body, headers=self._headers())
            except httpx.TransportError:
                if attempt == self.max_retries:
                    raise ExpoUnavailable("Expo push service unreachable") from None
                await self.sleep(wait)
                continue
            if response.status_code == 429 or response.status_code >= 500:
                if attempt == self.max_retries:
                    raise ExpoUnavailable(f"Expo push service answered {response.status_code}")
                retry_after = response.headers.get("retry-after")
                if retry_after and retry_after.isdigit():
                    wait = min(60.0, float(retry_after))
                await self.sleep(wait)
                continue
            if response.status_code >= 400:
                raise ExpoPushError(f"Expo push request refused ({response.status_code})")
            return response.json()
        raise ExpoUnavailable("Expo push service unavailable")  # pragma: no cover - loop always returns/raises

    async def send(self, messages: Sequence[PushMessage]) -> list[PushTicket]:
        tickets: list[PushTicket] = []
        for start in range(0, len(messages), SEND_CHUNK):
            chunk = messages[start : start + SEND_CHUNK]
            answer = await self._post("/send", [m.as_json() for m in chunk])
            data = answer.get("data") if isinstance(answer, dict) else None
            if not isinstance(data, list) or len(data) != len(chunk):
                raise ExpoPushError("Expo push answer does not hold one ticket per message")
            tickets.extend(_ticket(item) for item in data)
        return tickets

    async def receipts(self, ticket_ids: Sequence[str]) -> dict[str, PushReceipt]:
        """Receipts that are ready; ids missing from the answer are not ready yet."""
        found: dict[str, PushReceipt] = {}
        for start in range(0, len(ticket_ids), RECEIPT_CHUNK):
            answer = await self._post("/getReceipts", {"ids": list(ticket_ids[start : start + RECEIPT_CHUNK])})
            data = answer.get("data") if isinstance(answer, dict) else None
            if not isinstance(data, dict):
                raise ExpoPushError("Expo receipts answer has no data")
            for ticket_id, item in data.items():
                if isinstance(item, dict):
                    details = item.get("details") or {}
                    found[str(ticket_id)] = PushReceipt(
                        status=str(item.get("status")),
                        message=item.get("message"),
                        error=details.get("error") if isinstance(details, dict) else None,
                    )
        return found


def _ticket(item: Any) -> PushTicket:
    if not isinstance(item, dict):
        return PushTicket(status="error", message="malformed ticket")
    details = item.get("details") or {}
    return PushTicket(
        status=str(item.get("status")),
        id=item.get("id"),
        message=item.get("message"),
        error=details.get("error") if isinstance(details, dict) else None,
    )
