"""POST /events: a client may record engagement events only, at (about) the present time."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from src.modules.event_journal import CLIENT_EVENT_TYPES, EVENT_TYPES
from tests.event_journal.conftest import EVENTS
from tests.factories import User, anonymous_user
from tests.support import iso

SERVER_ONLY_TYPES = sorted(str(t) for t in EVENT_TYPES if t not in CLIENT_EVENT_TYPES)


async def own_events(client: httpx.AsyncClient, user: User, event_type: str | None = None) -> list[dict[str, object]]:
    params = {"event_type": event_type} if event_type else {}
    response = await client.get(EVENTS, params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("event_type", sorted(str(t) for t in CLIENT_EVENT_TYPES))
async def test_client_event_type_is_recorded_with_201_and_listed(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, event_type: str
) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        EVENTS,
        json={"event_type": event_type, "related_id": "wk-1", "related_type": "workout", "source": "mobile"},
        headers=user.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["event_type"] == event_type
    assert body["identity_id"] == user.id
    assert body["category"] == str(EVENT_TYPES[event_type].category)  # type: ignore[index]
    assert body["source"] == "mobile"
    assert body["timestamp"] == "2026-03-10T12:00:00Z"
    stored = await own_events(client, user, event_type)
    assert [e["id"] for e in stored] == [body["id"]]
    assert stored[0]["related_id"] == "wk-1"


@pytest.mark.parametrize("event_type", ["fast_completed", "xp_earned", "workout_completed", "level_up"])
async def test_server_event_type_is_refused_with_422_and_not_stored(
    app: FastAPI, client: httpx.AsyncClient, event_type: str
) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        EVENTS, json={"event_type": event_type, "metadata": {"xp_earned": 1000}}, headers=user.headers
    )
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "EVENT_TYPE_NOT_ALLOWED"
    assert await own_events(client, user, event_type) == []


async def test_every_server_only_type_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    statuses = {}
    for event_type in SERVER_ONLY_TYPES:
        response = await client.post(EVENTS, json={"event_type": event_type}, headers=user.headers)
        statuses[event_type] = (response.status_code, response.json().get("code"))
    assert set(statuses.values()) == {(422, "EVENT_TYPE_NOT_ALLOWED")}, statuses
    summary = await client.get(
        f"{EVENTS}/summary",
        params={"start_time": "2000-01-01T00:00:00Z", "end_time": "2100-01-01T00:00:00Z"},
        headers=user.headers,
    )
    # Only what sign-up recorded is there.
    assert set(summary.json()["events_by_type"]) == {"identity_created", "login"}


async def test_unknown_event_type_is_refused_with_422(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(EVENTS, json={"event_type": "totally_made_up"}, headers=user.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "EVENT_TYPE_NOT_ALLOWED"
    assert await own_events(client, user, "totally_made_up") == []


async def test_missing_event_type_is_a_validation_error(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(EVENTS, json={"metadata": {}}, headers=user.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert ["body", "event_type"] in [e["loc"] for e in response.json()["errors"]]


@pytest.mark.parametrize("offset", [timedelta(minutes=5, seconds=1), timedelta(minutes=-5, seconds=-1)])
async def test_timestamp_more_than_five_minutes_from_server_time_is_refused(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, offset: timedelta
) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        EVENTS, json={"event_type": "app_opened", "timestamp": iso(clock.now() + offset)}, headers=user.headers
    )
    assert response.status_code == 422
    assert response.json()["code"] == "TIMESTAMP_OUT_OF_RANGE"
    assert await own_events(client, user, "app_opened") == []


async def test_backdated_timestamp_days_ago_is_refused(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        EVENTS,
        json={"event_type": "share_created", "timestamp": iso(clock.now() - timedelta(days=3))},
        headers=user.headers,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "TIMESTAMP_OUT_OF_RANGE"


@pytest.mark.parametrize("offset", [timedelta(minutes=-5), timedelta(minutes=-2), timedelta(minutes=4, seconds=59)])
async def test_timestamp_within_skew_is_stored_as_given(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, offset: timedelta
) -> None:
    user = await anonymous_user(app)
    when = clock.now() + offset
    response = await client.post(
        EVENTS, json={"event_type": "app_opened", "timestamp": iso(when)}, headers=user.headers
    )
    assert response.status_code == 201, response.text
    expected = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert response.json()["timestamp"] == expected
    stored = await own_events(client, user, "app_opened")
    assert [e["timestamp"] for e in stored] == [expected]


async def test_timestamp_with_offset_is_the_same_instant_returned_in_utc(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    # 13:59 at +02:00 is 11:59 UTC, one minute before the frozen clock.
    response = await client.post(
        EVENTS, json={"event_type": "app_opened", "timestamp": "2026-03-10T13:59:00+02:00"}, headers=user.headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["timestamp"] == "2026-03-10T11:59:00Z"
    stored = await own_events(client, user, "app_opened")
    assert [e["timestamp"] for e in stored] == ["2026-03-10T11:59:00Z"]


async def test_naive_timestamp_is_refused_and_nothing_stored(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        EVENTS, json={"event_type": "app_opened", "timestamp": "2026-03-10T12:00:00"}, headers=user.headers
    )
    assert response.status_code == 422
    assert ["body", "timestamp"] in [e["loc"] for e in response.json()["errors"]]
    assert await own_events(client, user, "app_opened") == []


async def test_event_without_timestamp_is_stamped_with_server_time(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    clock.advance(minutes=30)
    response = await client.post(EVENTS, json={"event_type": "recipe_viewed"}, headers=user.headers)
    assert response.status_code == 201
    assert response.json()["timestamp"] == "2026-03-10T12:30:00Z"
    assert response.json()["source"] == "api"


@pytest.mark.parametrize("source", ["scheduled", "system"])
async def test_server_source_is_refused(app: FastAPI, client: httpx.AsyncClient, source: str) -> None:
    user = await anonymous_user(app)
    response = await client.post(EVENTS, json={"event_type": "app_opened", "source": source}, headers=user.headers)
    assert response.status_code == 422
    assert ["body", "source"] in [e["loc"] for e in response.json()["errors"]]
    assert await own_events(client, user, "app_opened") == []


async def test_unknown_source_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(EVENTS, json={"event_type": "app_opened", "source": "server"}, headers=user.headers)
    assert response.status_code == 422


async def test_metadata_over_4_kb_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        EVENTS, json={"event_type": "workout_viewed", "metadata": {"blob": "x" * 4100}}, headers=user.headers
    )
    assert response.status_code == 422
    assert ["body", "metadata"] in [e["loc"] for e in response.json()["errors"]]
    assert await own_events(client, user, "workout_viewed") == []


async def test_metadata_just_under_4_kb_is_kept_intact(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    metadata = {"blob": "x" * 4000, "nested": {"n": 1, "ok": True, "list": [1, "two", None]}}
    response = await client.post(
        EVENTS, json={"event_type": "workout_viewed", "metadata": metadata}, headers=user.headers
    )
    assert response.status_code == 201, response.text
    stored = await own_events(client, user, "workout_viewed")
    assert stored[0]["metadata"] == metadata


async def test_description_longer_than_500_characters_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        EVENTS, json={"event_type": "app_opened", "description": "d" * 501}, headers=user.headers
    )
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("description", "opened\x00"),
        ("related_id", "wk\x001"),
        ("related_type", "work\x00out"),
        ("description", "lone \ud800 surrogate"),
    ],
)
async def test_text_the_databases_cannot_store_alike_is_refused_and_not_stored(
    app: FastAPI, client: httpx.AsyncClient, field: str, value: str
) -> None:
    # PostgreSQL refuses NUL in text while SQLite keeps it: refused up front, the same on both.
    user = await anonymous_user(app)
    response = await client.post(
        EVENTS,
        content=json.dumps({"event_type": "app_opened", field: value}),  # ASCII-escaped, as JSON allows
        headers={**user.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert ["body", field] in [e["loc"] for e in response.json()["errors"]]
    assert await own_events(client, user, "app_opened") == []


async def test_identity_id_query_parameter_of_another_user_is_ignored(app: FastAPI, client: httpx.AsyncClient) -> None:
    me = await anonymous_user(app)
    other = await anonymous_user(app)
    response = await client.post(
        f"{EVENTS}?identity_id={other.id}&identity_id={other.id}",
        json={"event_type": "research_viewed", "related_id": "paper-1"},
        headers=me.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["identity_id"] == me.id
    assert [e["related_id"] for e in await own_events(client, me, "research_viewed")] == ["paper-1"]
    assert await own_events(client, other, "research_viewed") == []


async def test_identity_id_query_parameter_does_not_let_a_read_see_another_user(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    me = await anonymous_user(app)
    other = await anonymous_user(app)
    await client.post(EVENTS, json={"event_type": "app_opened"}, headers=other.headers)
    response = await client.get(
        EVENTS, params={"identity_id": other.id, "event_type": "app_opened"}, headers=me.headers
    )
    assert response.status_code == 200
    assert response.json() == []
