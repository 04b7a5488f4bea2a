"""GDPR endpoints of the journal: export everything, erase everything, detach everything."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from src.core.clock import FrozenClock
from src.modules.event_journal import EventType
from src.modules.event_journal.orm import ActivityEventRow
from tests.event_journal.conftest import EVENTS, CountRows, RecordServerEvent
from tests.factories import User, anonymous_user

E = EventType
EXPORT = f"{EVENTS}/export/all"
DELETE = f"{EVENTS}/gdpr/delete"
ANONYMIZE = f"{EVENTS}/gdpr/anonymize"


async def export(client: httpx.AsyncClient, user: User) -> list[dict[str, Any]]:
    response = await client.get(EXPORT, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def rows_of(app: FastAPI, identity_id: str) -> list[ActivityEventRow]:
    async with app.state.sessions.reader() as session:
        result = await session.execute(
            select(ActivityEventRow).where(ActivityEventRow.identity_id == uuid.UUID(identity_id))
        )
        return list(result.scalars())


async def with_history(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, server_event: RecordServerEvent
) -> User:
    """A user with sign-up events, three server events in the past and one client event."""
    user = await anonymous_user(app)
    window = uuid.uuid4()
    await server_event(
        user,
        E.FAST_COMPLETED,
        at=clock.now() - timedelta(days=1),
        related_id=window,
        related_type="time_window",
        metadata={"duration_hours": 16.5},
        description="Great fast",
    )
    await server_event(user, E.FAST_STARTED, at=clock.now() - timedelta(days=2), related_id=window)
    await server_event(user, E.WEIGHT_LOGGED, at=clock.now() - timedelta(hours=3), metadata={"value": 72.5})
    response = await client.post(
        EVENTS, json={"event_type": "app_opened", "metadata": {"screen": "home"}}, headers=user.headers
    )
    assert response.status_code == 201
    return user


# Export ----------------------------------------------------------------------------------------


async def test_export_returns_every_own_event_oldest_first(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, server_event: RecordServerEvent
) -> None:
    user = await with_history(app, client, clock, server_event)
    other = await with_history(app, client, clock, server_event)
    events = await export(client, user)
    assert [e["event_type"] for e in events[:3]] == ["fast_started", "fast_completed", "weight_logged"]
    assert {e["event_type"] for e in events[3:]} == {"identity_created", "login", "app_opened"}
    timestamps = [e["timestamp"] for e in events]
    assert timestamps == sorted(timestamps)
    assert {e["identity_id"] for e in events} == {user.id}
    assert events[1]["metadata"] == {"duration_hours": 16.5}
    assert events[1]["description"] == "Great fast"
    assert {e["id"] for e in events}.isdisjoint({e["id"] for e in await export(client, other)})


async def test_export_is_not_capped_like_the_list(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, server_event: RecordServerEvent
) -> None:
    from sqlalchemy import insert

    user = await anonymous_user(app)
    async with app.state.sessions.writer() as session:
        await session.execute(
            insert(ActivityEventRow),
            [
                {
                    "id": uuid.uuid4(),
                    "identity_id": uuid.UUID(user.id),
                    "event_type": "app_opened",
                    "category": "app",
                    "occurred_at": clock.now() - timedelta(minutes=n),
                    "source": "mobile",
                    "event_metadata": {},
                    "created_at": clock.now(),
                }
                for n in range(1, 601)
            ],
        )
        await session.commit()
    assert len(await export(client, user)) == 602


async def test_export_of_a_user_without_events_is_an_empty_list(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert (await client.delete(DELETE, headers=user.headers)).status_code == 200
    assert await export(client, user) == []


async def test_sixth_gdpr_request_within_an_hour_is_rate_limited(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    for _ in range(5):
        assert (await client.get(EXPORT, headers=user.headers)).status_code == 200
    response = await client.get(EXPORT, headers=user.headers)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["code"] == "RATE_LIMITED"


# Delete ----------------------------------------------------------------------------------------


async def test_gdpr_delete_erases_every_own_event_and_reports_the_count(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, server_event: RecordServerEvent, stored_rows: CountRows
) -> None:
    user = await with_history(app, client, clock, server_event)
    response = await client.delete(DELETE, headers=user.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"deleted": 6, "identity_id": user.id}
    assert await export(client, user) == []
    assert (await client.get(f"{EVENTS}/feed", headers=user.headers)).json() == []
    assert await stored_rows(user.id) == 0


async def test_gdpr_delete_leaves_other_users_events_untouched(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, server_event: RecordServerEvent
) -> None:
    user = await with_history(app, client, clock, server_event)
    other = await with_history(app, client, clock, server_event)
    before = await export(client, other)
    assert (await client.delete(DELETE, headers=user.headers)).status_code == 200
    assert await export(client, other) == before


async def test_gdpr_delete_twice_deletes_nothing_the_second_time(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert (await client.delete(DELETE, headers=user.headers)).json()["deleted"] == 2
    assert (await client.delete(DELETE, headers=user.headers)).json() == {"deleted": 0, "identity_id": user.id}


# Anonymize -------------------------------------------------------------------------------------


async def test_anonymize_detaches_events_under_a_random_id(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, server_event: RecordServerEvent, stored_rows: CountRows
) -> None:
    user = await with_history(app, client, clock, server_event)
    response = await client.post(ANONYMIZE, headers=user.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["anonymized"] == 6
    replacement = body["identity_id"]
    assert replacement != user.id
    uuid.UUID(replacement)
    # The rows are kept, under the replacement id only.
    assert await stored_rows(user.id) == 0
    rows = await rows_of(app, replacement)
    assert len(rows) == 6
    assert sorted(r.event_type for r in rows) == sorted(
        ["identity_created", "login", "fast_started", "fast_completed", "weight_logged", "app_opened"]
    )


async def test_anonymize_empties_metadata_and_description(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, server_event: RecordServerEvent
) -> None:
    user = await with_history(app, client, clock, server_event)
    replacement = (await client.post(ANONYMIZE, headers=user.headers)).json()["identity_id"]
    rows = await rows_of(app, replacement)
    assert {repr(r.event_metadata) for r in rows} == {"{}"}
    assert {r.description for r in rows} == {None}
    assert {r.related_id for r in rows} == {None}


async def test_anonymized_events_are_no_longer_visible_to_the_caller(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, server_event: RecordServerEvent
) -> None:
    user = await with_history(app, client, clock, server_event)
    event_id = (await export(client, user))[0]["id"]
    assert (await client.post(ANONYMIZE, headers=user.headers)).status_code == 200
    assert await export(client, user) == []
    assert (await client.get(f"{EVENTS}/feed", headers=user.headers)).json() == []
    assert (await client.get(f"{EVENTS}/{event_id}", headers=user.headers)).status_code == 404
    count = await client.get(f"{EVENTS}/count", params={"event_type": "fast_completed"}, headers=user.headers)
    assert count.json()["count"] == 0


async def test_anonymize_gives_different_ids_to_different_users(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, server_event: RecordServerEvent
) -> None:
    first = await anonymous_user(app)
    second = await anonymous_user(app)
    a = (await client.post(ANONYMIZE, headers=first.headers)).json()["identity_id"]
    b = (await client.post(ANONYMIZE, headers=second.headers)).json()["identity_id"]
    assert a != b
    assert {a, b}.isdisjoint({first.id, second.id})


async def test_anonymize_twice_uses_a_new_id_each_time(
    app: FastAPI, client: httpx.AsyncClient, stored_rows: CountRows
) -> None:
    # A fixed (hash-derived) replacement would let anyone who knows the account id find its rows.
    user = await anonymous_user(app)
    first = (await client.post(ANONYMIZE, headers=user.headers)).json()
    await client.post(EVENTS, json={"event_type": "app_opened"}, headers=user.headers)
    second = (await client.post(ANONYMIZE, headers=user.headers)).json()
    assert first["anonymized"] == 2
    assert second["anonymized"] == 1
    assert first["identity_id"] != second["identity_id"]
    assert await stored_rows(first["identity_id"]) == 2
    assert await stored_rows(second["identity_id"]) == 1


async def test_anonymize_leaves_other_users_events_untouched(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, server_event: RecordServerEvent
) -> None:
    user = await with_history(app, client, clock, server_event)
    other = await with_history(app, client, clock, server_event)
    before = await export(client, other)
    assert (await client.post(ANONYMIZE, headers=user.headers)).status_code == 200
    assert await export(client, other) == before


async def test_events_recorded_after_anonymizing_belong_to_the_caller_again(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    assert (await client.post(ANONYMIZE, headers=user.headers)).status_code == 200
    response = await client.post(EVENTS, json={"event_type": "workout_viewed"}, headers=user.headers)
    assert response.status_code == 201
    assert [e["event_type"] for e in await export(client, user)] == ["workout_viewed"]
