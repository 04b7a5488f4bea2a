"""Access logs can be sampled for successful requests without losing any failed one."""

from __future__ import annotations

import logging

import httpx
import pytest
from fastapi import FastAPI


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"access_log_sample_every": 5, "log_level": "INFO", "rate_limit_enabled": False}


async def test_one_in_n_successes_is_logged_and_every_failure(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="ugoki.access"):
        for _ in range(20):
            assert (await client.get("/health")).status_code == 200
        for _ in range(3):
            assert (await client.get("/api/v1/no-such-route")).status_code == 404
    lines = [r for r in caplog.records if r.name == "ugoki.access"]
    assert sum(1 for r in lines if getattr(r, "status", None) == 200) == 4
    assert sum(1 for r in lines if getattr(r, "status", None) == 404) == 3
