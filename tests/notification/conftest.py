from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.notification.fake_expo import FakeExpo, serve_fake_expo


@pytest.fixture
async def expo() -> AsyncIterator[FakeExpo]:
    async with serve_fake_expo() as fake:
        yield fake


@pytest.fixture
def settings_overrides(expo: FakeExpo, request: pytest.FixtureRequest) -> dict[str, object]:
    overrides: dict[str, object] = {
        "push_provider": "expo",
        "expo_push_url": expo.url,
        "expo_backoff_seconds": 0.01,
        "expo_receipt_delay_seconds": 0,
    }
    overrides.update(getattr(request, "param", {}))
    return overrides
