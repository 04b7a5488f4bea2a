"""A minimal client of Anthropic's Messages API (`POST {base}/v1/messages`): one prompt in, the
text of the answer out. Used where a feature needs a single completion (research digests)."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

API_VERSION = "2023-06-01"


class LLMError(Exception):
    """The model could not be reached or answered something unusable."""


@dataclass(frozen=True)
class MessagesClient:
    http: httpx.AsyncClient
    base_url: str
    api_key: str
    model: str
    timeout_seconds: float = 30.0

    async def complete(self, *, system: str, user: str, max_tokens: int) -> str:
        try:
            response = await self.http.post(
                f"{self.base_url.rstrip('/')}/v1/messages",
                headers={
                    "x-api-key": self.api_key,
                    "anthropic-version": API_VERSION,
                    "content-type": "application/json",
                },
                json={
                    "model": self.model,
                    "max_tokens": max_tokens,
                    "system": system,
                    "messages": [{"role": "user", "content": user}],
                },
                timeout=self.timeout_seconds,
            )
        except httpx.HTTPError as exc:
            raise LLMError(type(exc).__name__) from exc
        if response.status_code != 200:
            raise LLMError(f"HTTP {response.status_code}")
        try:
            blocks = response.json().get("content", [])
            return "".join(b.get("text", "") for b in blocks if isinstance(b, dict) and b.get("type") == "text")
        except (ValueError, AttributeError) as exc:
            raise LLMError("unreadable answer") from exc
