"""Coach tests run offline unless a test asks for settings (`@pytest.mark.parametrize(
"settings_overrides", [{...}], indirect=True)`)."""

from __future__ import annotations

import pytest


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    return dict(getattr(request, "param", {}))
