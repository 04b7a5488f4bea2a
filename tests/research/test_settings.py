from __future__ import annotations

import pytest
from pydantic import ValidationError

from src.core.settings import Settings
from tests.core.test_settings import production


def test_research_is_offline_by_default() -> None:
    settings = Settings(_env_file=None)
    assert settings.research_online is False
    assert settings.research_daily_searches == 15


def test_online_research_in_production_needs_a_contact_address() -> None:
    with pytest.raises(ValidationError, match="PUBMED_EMAIL"):
        production(research_online=True)
    assert production(research_online=True, pubmed_email="ops@example.org").research_online is True
