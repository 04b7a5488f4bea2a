"""Every journal endpoint needs a valid token and shows the caller's own events only."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from src.modules.event_journal import EventType
from tests.event_journal.conftest import EVENTS, RecordServerEvent
from tests.factories import anonymous_user

E = EventType
SOME_ID = "3f1c2a4e-8d2b-4c6a-9e1f-0a2b3c4d5e6f"
PERIOD = {"start_time": "2026-01-01T00:00:00Z", "end_time": "2026-12-31T00:00:00Z"}

ENDPOINTS: list[tuple[str, str, dict[str, Any]]] = [
    ("GET", f"{EVENTS}/feed", {}),
    ("GET", EVENTS, {}),
    ("GET", f"{EVENTS}/by-related", {"params": {"related_id": SOME_ID}}),
    ("GET", f"{EVENTS}/summary", {"params": PERIOD}),
    ("GET", f"{EVENTS}/count", {"params": {"event_type": "login"}}),
    ("GET", f"{EVENTS}/{SOME_ID}", {}),
    ("POST", EVENTS, {"json": {"event_type": "app_opened"}}),
    ("GET", f"{EVENTS}/export/all", {}),
    ("DELETE", f"{EVENTS}/gdpr/delete", {}),
    ("POST", f"{EVENTS}/gdpr/anonymize", {}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
async def test_request_without_token_is_401_problem(
    client: httpx.AsyncClient, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    response = await client.request(method, path, **kwargs)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["www-authenticate"].lower().startswith("bearer")
    body = response.json()
    assert body["status"] == 401
    assert body["code"] == "UNAUTHORIZED"
    assert body["request_id"]


@pytest.mark.parametrize(("method", "path", "kwargs"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
async def test_request_with_a_forged_token_is_401(
    client: httpx.AsyncClient, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    headers = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"}
    response = await client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == 401
    assert response.json()["code"] == "UNAUTHORIZED"


async def test_expired_token_cannot_read_or_write_events(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    clock.advance(minutes=61)
    assert (await client.get(f"{EVENTS}/feed", headers=user.headers)).status_code == 401
    response = await client.post(EVENTS, json={"event_type": "app_opened"}, headers=user.headers)
    assert response.status_code == 401


async def test_unauthenticated_gdpr_delete_erases_nothing(
    app: FastAPI, client: httpx.AsyncClient, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    await server_event(user, E.FAST_COMPLETED)
    assert (await client.delete(f"{EVENTS}/gdpr/delete")).status_code == 401
    count = await client.get(f"{EVENTS}/count", params={"event_type": "fast_completed"}, headers=user.headers)
    assert count.json()["count"] == 1


async def test_another_user_sees_none_of_my_events_anywhere(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, server_event: RecordServerEvent
) -> None:
    me = await anonymous_user(app)
    stranger = await anonymous_user(app)
    window = str(uuid.uuid4())
    mine = {
        await server_event(
            me,
            E.FAST_COMPLETED,
            at=clock.now() - timedelta(hours=1),
            related_id=window,
            related_type="time_window",
            metadata={"duration_hours": 16},
        ),
        await server_event(me, E.WEIGHT_LOGGED, at=clock.now() - timedelta(hours=2), metadata={"value": 61.2}),
    }
    posted = await client.post(EVENTS, json={"event_type": "recipe_viewed", "related_id": window}, headers=me.headers)
    mine.add(posted.json()["id"])
    headers = stranger.headers

    def ids(response: httpx.Response) -> set[str]:
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()}

    assert ids(await client.get(f"{EVENTS}/feed", params={"limit": 100}, headers=headers)).isdisjoint(mine)
    assert ids(await client.get(EVENTS, params={"limit": 500}, headers=headers)).isdisjoint(mine)
    assert ids(await client.get(f"{EVENTS}/by-related", params={"related_id": window}, headers=headers)) == set()
    assert ids(await client.get(f"{EVENTS}/export/all", headers=headers)).isdisjoint(mine)
    summary = (await client.get(f"{EVENTS}/summary", params=PERIOD, headers=headers)).json()
    assert summary["events_by_type"] == {"identity_created": 1, "login": 1}
    for event_type in ("fast_completed", "weight_logged", "recipe_viewed"):
        count = await client.get(f"{EVENTS}/count", params={"event_type": event_type}, headers=headers)
        assert count.json()["count"] == 0
    for event_id in mine:
        assert (await client.get(f"{EVENTS}/{event_id}", headers=headers)).status_code == 404
    # ... while I still see all of them.
    assert mine <= ids(await client.get(EVENTS, headers=me.headers))


async def test_identity_id_query_parameter_never_opens_another_users_journal(
    app: FastAPI, client: httpx.AsyncClient, server_event: RecordServerEvent
) -> None:
    me = await anonymous_user(app)
    stranger = await anonymous_user(app)
    event_id = await server_event(me, E.LEVEL_UP, metadata={"new_level": 4})
    spoof = {"identity_id": me.id}
    headers = stranger.headers
    feed = await client.get(f"{EVENTS}/feed", params=spoof, headers=headers)
    assert event_id not in {i["id"] for i in feed.json()}
    export = await client.get(f"{EVENTS}/export/all", params=spoof, headers=headers)
    assert {e["identity_id"] for e in export.json()} == {stranger.id}
    single = await client.get(f"{EVENTS}/{event_id}", params=spoof, headers=headers)
    assert single.status_code == 404
    erased = await client.delete(f"{EVENTS}/gdpr/delete", params=spoof, headers=headers)
    assert erased.json()["identity_id"] == stranger.id
    assert (await client.get(f"{EVENTS}/{event_id}", headers=me.headers)).status_code == 200
