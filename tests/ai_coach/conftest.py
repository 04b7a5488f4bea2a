"""Coach tests run offline unless a test asks for settings (`@pytest.mark.parametrize(
"settings_overrides", [{...}], indirect=True)`); `"openai"` points the app at the local fake
OpenAI-compatible server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ai_coach.openai_server import FakeOpenAI


@pytest.fixture(scope="session")
def openai_server() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_openai(openai_server: FakeOpenAI) -> Iterator[FakeOpenAI]:
    openai_server.reset()
    yield openai_server
    openai_server.reset()


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    param = getattr(request, "param", {})
    if param == "anthropic":
        return request.getfixturevalue("fake_openai").anthropic_settings()  # type: ignore[no-any-return]
    if param == "openai" or (isinstance(param, dict) and param.get("provider") == "openai"):
        server: FakeOpenAI = request.getfixturevalue("fake_openai")
        extra = {k: v for k, v in param.items() if k != "provider"} if isinstance(param, dict) else {}
        return server.settings(**extra)
    return dict(param)
