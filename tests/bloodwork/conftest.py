"""Bloodwork tests run offline by default (no language model, no OCR program), with stored files
under a temporary directory. `@pytest.mark.parametrize("settings_overrides", ["anthropic"],
indirect=True)` points the app at the local fake Anthropic server instead
(`anthropic_short_timeout`: a 0.3 s client timeout; `anthropic_unreachable`: nothing listens)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bloodwork.anthropic_server import FakeAnthropic, unreachable_url


@pytest.fixture(scope="session")
def anthropic_server() -> Iterator[FakeAnthropic]:
    server = FakeAnthropic()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def anthropic(anthropic_server: FakeAnthropic) -> Iterator[FakeAnthropic]:
    anthropic_server.reset()
    yield anthropic_server
    anthropic_server.reset()


@pytest.fixture(autouse=True)
def no_ocr_program(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Whatever is installed on the machine, tests see no `tesseract` unless they put one there."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, object]:
    variant = getattr(request, "param", "offline")
    overrides: dict[str, object] = {"data_dir": tmp_path / "data", "bloodwork_parse_timeout_seconds": 20.0}
    if variant.startswith("anthropic"):
        server: FakeAnthropic = request.getfixturevalue("anthropic")
        overrides.update(server.settings())
        if variant == "anthropic_short_timeout":
            overrides["llm_timeout_seconds"] = 0.3
        elif variant == "anthropic_unreachable":
            overrides["llm_base_url"] = unreachable_url()
        elif variant != "anthropic":
            raise ValueError(f"unknown settings variant {variant!r}")
    elif variant == "slow_parse":
        overrides["bloodwork_parse_timeout_seconds"] = 0.001
    elif variant != "offline":
        raise ValueError(f"unknown settings variant {variant!r}")
    return overrides
