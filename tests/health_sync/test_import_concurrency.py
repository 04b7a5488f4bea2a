"""An Apple Health import holds no transaction while its export is parsed: other people's writes
go on meanwhile (on SQLite a held write lock would block them)."""

from __future__ import annotations

import asyncio
import threading
from typing import IO, Any

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from src.modules.health_sync import service as health_sync
from tests.factories import anonymous_user
from tests.health_sync.helpers import export_xml, history, iso, ok, record, sync, upload


async def test_other_writes_proceed_while_an_export_is_being_parsed(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    importer = await anonymous_user(app)
    other = await anonymous_user(app)
    entered, release = threading.Event(), threading.Event()
    parse = health_sync.parse_apple_health_export

    def slow_parse(upload_file: IO[bytes], **kwargs: Any) -> health_sync.ParsedExport:
        entered.set()
        release.wait(timeout=30)
        return parse(upload_file, **kwargs)

    monkeypatch.setattr(health_sync, "parse_apple_health_export", slow_parse)
    data = export_xml(record("StepCount", 4200, "2026-03-08 18:00:00 +0100", unit="count"))
    importing = asyncio.create_task(upload(client, importer, data))
    try:
        assert await asyncio.to_thread(entered.wait, 10)
        # The import is parsing now; another person's sync must not wait for it.
        await asyncio.wait_for(sync(client, other, {"hrv": 52, "synced_at": iso(clock.now())}), timeout=10)
    finally:
        release.set()
    ok(await importing)
    assert [m["value"] for m in await history(client, importer, "steps")] == [4200.0]
    assert [m["value"] for m in await history(client, other, "health_hrv")] == [52.0]
