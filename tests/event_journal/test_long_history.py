"""Reads over a long history: the streamed account export holds every event and the reference's
top-level keys; the feed pages through thousands of events with the (instant, id) cursor without
skipping or repeating one."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from tests.event_journal.history import seed_events
from tests.factories import anonymous_user
from tests.http import ok

END = datetime(2026, 1, 1, tzinfo=UTC)


async def test_the_export_of_a_long_history_is_streamed_and_complete(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await seed_events(app, user.id, 3_000, END)
    response = await client.get("/api/v1/profile/export", headers=user.headers)
    assert response.status_code == 200
    assert "content-length" not in response.headers  # sent in chunks as it is read
    document = response.json()
    for key in ("format_version", "identity_id", "exported_at", "modules", "profile", "preferences", "goals"):
        assert key in document
    assert document["identity_id"] == user.id
    events = document["modules"]["event_journal"]
    assert sum(1 for e in events if e["metadata"].get("n") is not None) == 3_000
    assert [e["metadata"]["n"] for e in events if "n" in e["metadata"]] == list(range(3_000))
    # Each event is written as the journal's own endpoints answer it.
    assert events == ok(await client.get("/api/v1/events/export/all", headers=user.headers))


async def test_the_zip_export_of_a_long_history_is_streamed_and_complete(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await seed_events(app, user.id, 3_000, END)
    response = await client.get("/api/v1/profile/export", params={"format": "zip"}, headers=user.headers)
    assert response.status_code == 200
    assert "content-length" not in response.headers  # sent in chunks as it is read
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.testzip() is None
        meta = json.loads(archive.read("export.json"))
        text = archive.read("event_journal.json").decode()
        profile = json.loads(archive.read("profile.json"))
    assert meta["identity_id"] == user.id
    events = json.loads(text)
    assert [e["metadata"]["n"] for e in events if "n" in e["metadata"]] == list(range(3_000))
    assert events == ok(await client.get("/api/v1/events/export/all", headers=user.headers))
    assert text == json.dumps(events, indent=2)  # indented like every other file of the archive
    assert isinstance(profile, dict)


async def test_the_feed_pages_through_a_long_history_with_the_cursor(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await seed_events(app, user.id, 450, END)
    seen: list[str] = []
    params: dict[str, str | int] = {"limit": 100}
    while True:
        page = ok(await client.get("/api/v1/events/feed", headers=user.headers, params=params))
        if not page:
            break
        seen.extend(item["id"] for item in page)
        params = {"limit": 100, "before": page[-1]["timestamp"], "before_id": page[-1]["id"]}
    assert len(seen) == len(set(seen)) >= 450
