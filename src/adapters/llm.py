"""Language model clients over the shared HTTP client. `anthropic_client(settings, http)` is the
configured Anthropic Messages API client, or None offline (`LLM_PROVIDER=none` or no key).
Callers bring their own prompts and check the answers; this module only sends and receives."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from src.core.errors import ServiceUnavailable

if TYPE_CHECKING:
    from src.core.settings import Settings

logger = logging.getLogger("ugoki.llm")

ANTHROPIC_VERSION = "2023-06-01"
MAX_TOKENS = 4096


class LanguageModelUnavailable(ServiceUnavailable):
    code = "LLM_UNAVAILABLE"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Retry-After": "30"})


class _Reply(BaseModel):
    model_config = ConfigDict(extra="ignore")

    content: list[dict[str, Any]]


class AnthropicClient:
    """Anthropic Messages API (`POST {base_url}/v1/messages`)."""

    name = "anthropic"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        api_key: str,
        model: str,
        timeout: float,
        max_tokens: int = MAX_TOKENS,
    ) -> None:
        self.http = http
        self.url = base_url.rstrip("/") + "/v1/messages"
        self._api_key = api_key
        self.model = model
        self.timeout = timeout
        self.max_tokens = max_tokens

    def __repr__(self) -> str:  # never show the key
        return f"AnthropicClient(url={self.url!r}, model={self.model!r})"

    async def ask(self, system: str, content: list[dict[str, Any]]) -> str:
        """The text of the model's answer to one user message; LanguageModelUnavailable when the
        service cannot be reached or answers something unusable."""
        try:
            response = await self.http.post(
                self.url,
                headers={
                    "x-api-key": self._api_key,
                    "anthropic-version": ANTHROPIC_VERSION,
                    "content-type": "application/json",
                    "accept": "application/json",
                },
                json={
                    "model": self.model,
                    "max_tokens": self.max_tokens,
                    "system": system,
                    "messages": [{"role": "user", "content": content}],
                },
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            logger.warning("language model unreachable: %s", type(exc).__name__)
            raise LanguageModelUnavailable(
                "The document reader is not reachable right now; try again in a minute."
            ) from None
        if response.status_code != 200:
            logger.warning("language model answered %s", response.status_code)
            raise LanguageModelUnavailable("The document reader is not available right now; try again in a minute.")
        try:
            reply = _Reply.model_validate(response.json())
        except (ValueError, ValidationError):
            logger.warning("language model sent an unexpected body")
            raise LanguageModelUnavailable("The document reader sent an unusable answer; try again later.") from None
        text = "".join(str(block.get("text", "")) for block in reply.content if block.get("type") == "text")
        if not text.strip():
            raise LanguageModelUnavailable("The document reader sent an empty answer; try again later.")
        return text


def anthropic_client(settings: Settings, http: httpx.AsyncClient) -> AnthropicClient | None:
    """The configured client, or None offline (`LLM_PROVIDER=none` or no key)."""
    if settings.llm_provider != "anthropic" or settings.anthropic_api_key is None:
        return None
    key = settings.anthropic_api_key.get_secret_value()
    if not key:
        return None
    return AnthropicClient(
        http,
        base_url=settings.llm_base_url,
        api_key=key,
        model=settings.llm_model,
        timeout=settings.llm_timeout_seconds,
    )
