"""Language models for the coach, as Pydantic AI models built from the settings.

`LLM_PROVIDER=anthropic` uses the Anthropic Messages API (`LLM_BASE_URL`, `ANTHROPIC_API_KEY`);
`LLM_PROVIDER=openai` uses any OpenAI-compatible chat-completions API at `OPENAI_BASE_URL`
(OpenAI, Ollama, Groq, vLLM…); `none` returns no model and the caller runs its offline coach.
Each provider keeps one HTTP client per process (the SDKs' own, built once here and reused), with
`LLM_TIMEOUT_SECONDS` per request. Nothing here knows about the coach's domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic_ai.models import Model

    from src.core.settings import Settings


@dataclass(frozen=True)
class ConfiguredModel:
    model: Model
    label: str  # provider:model, stored with judge scores


_built: dict[tuple[object, ...], ConfiguredModel] = {}


def configured_model(settings: Settings) -> ConfiguredModel | None:
    """The configured chat model, or None when no provider is configured (offline)."""
    if settings.llm_provider == "openai" and settings.openai_api_key is not None:
        name = settings.coach_model or settings.openai_model
        key: tuple[object, ...] = ("openai", settings.openai_base_url, name, settings.openai_api_key)
        if key not in _built:
            from pydantic_ai.models.openai import OpenAIChatModel
            from pydantic_ai.providers.openai import OpenAIProvider

            provider = OpenAIProvider(
                base_url=settings.openai_base_url, api_key=settings.openai_api_key.get_secret_value()
            )
            model = OpenAIChatModel(name, provider=provider, settings={"timeout": settings.llm_timeout_seconds})
            _built[key] = ConfiguredModel(model, f"openai:{name}")
        return _built[key]
    if settings.llm_provider == "anthropic" and settings.anthropic_api_key is not None:
        name = settings.coach_model or settings.llm_model
        key = ("anthropic", settings.llm_base_url, name, settings.anthropic_api_key)
        if key not in _built:
            from pydantic_ai.models.anthropic import AnthropicModel
            from pydantic_ai.providers.anthropic import AnthropicProvider

            anthropic = AnthropicProvider(
                api_key=settings.anthropic_api_key.get_secret_value(), base_url=settings.llm_base_url
            )
            claude = AnthropicModel(name, provider=anthropic, settings={"timeout": settings.llm_timeout_seconds})
            _built[key] = ConfiguredModel(claude, f"anthropic:{name}")
        return _built[key]
    return None
