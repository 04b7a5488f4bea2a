"""The raw event list, events about one resource, summaries, counts and single events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from src.modules.event_journal import EventType
from tests.event_journal.conftest import EVENTS, RecordManyServerEvents, RecordServerEvent
from tests.factories import User, anonymous_user

E = EventType
DAY = datetime(2026, 3, 9, tzinfo=UTC)  # the day before the frozen clock's "now"


def at(hour: int, minute: int = 0) -> datetime:
    return DAY + timedelta(hours=hour, minutes=minute)


async def get_json(client: httpx.AsyncClient, user: User, path: str, **params: Any) -> Any:
    response = await client.get(f"{EVENTS}{path}", params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def seed_day(user: User, server_event: RecordServerEvent) -> dict[str, str]:
    """A day of activity on 2026-03-09: a fast, a workout, progression and a weight."""
    return {
        "fast_started": await server_event(user, E.FAST_STARTED, at=at(6)),
        "workout_completed": await server_event(user, E.WORKOUT_COMPLETED, at=at(8)),
        "streak_workout": await server_event(user, E.STREAK_INCREMENTED, at=at(8, 1)),
        "weight_logged": await server_event(user, E.WEIGHT_LOGGED, at=at(9), metadata={"value": 72.5}),
        "fast_completed": await server_event(user, E.FAST_COMPLETED, at=at(22)),
        "streak_fast": await server_event(user, E.STREAK_INCREMENTED, at=at(22, 1)),
    }


# GET /events -----------------------------------------------------------------------------------


async def test_list_returns_all_own_events_newest_first(
    app: FastAPI, client: httpx.AsyncClient, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    ids = await seed_day(user, server_event)
    events = await get_json(client, user, "")
    assert [e["id"] for e in events[2:]] == [
        ids["streak_fast"],
        ids["fast_completed"],
        ids["weight_logged"],
        ids["streak_workout"],
        ids["workout_completed"],
        ids["fast_started"],
    ]
    assert {e["event_type"] for e in events[:2]} == {"identity_created", "login"}
    assert all(e["identity_id"] == user.id for e in events)
    first = events[2]
    assert first["category"] == "progression"
    assert first["timestamp"] == "2026-03-09T22:01:00Z"
    assert first["created_at"] == "2026-03-10T12:00:00Z"


async def test_list_filters_by_category(
    app: FastAPI, client: httpx.AsyncClient, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    ids = await seed_day(user, server_event)
    events = await get_json(client, user, "", category="fasting")
    assert [e["id"] for e in events] == [ids["fast_completed"], ids["fast_started"]]
    assert [e["id"] for e in await get_json(client, user, "", category="metrics")] == [ids["weight_logged"]]


async def test_list_filters_by_event_type(
    app: FastAPI, client: httpx.AsyncClient, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    ids = await seed_day(user, server_event)
    events = await get_json(client, user, "", event_type="streak_incremented")
    assert [e["id"] for e in events] == [ids["streak_fast"], ids["streak_workout"]]
    assert await get_json(client, user, "", event_type="no_such_type") == []


async def test_list_filters_by_period_start_inclusive_end_exclusive(
    app: FastAPI, client: httpx.AsyncClient, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    ids = await seed_day(user, server_event)
    events = await get_json(client, user, "", start_time="2026-03-09T08:00:00Z", end_time="2026-03-09T22:00:00Z")
    assert [e["id"] for e in events] == [ids["weight_logged"], ids["streak_workout"], ids["workout_completed"]]
    since = await get_json(client, user, "", start_time="2026-03-09T22:00:00Z", category="fasting")
    assert [e["id"] for e in since] == [ids["fast_completed"]]
    until = await get_json(client, user, "", end_time="2026-03-09T08:00:00Z")
    assert [e["id"] for e in until] == [ids["fast_started"]]


async def test_list_combines_filters(app: FastAPI, client: httpx.AsyncClient, server_event: RecordServerEvent) -> None:
    user = await anonymous_user(app)
    ids = await seed_day(user, server_event)
    events = await get_json(
        client,
        user,
        "",
        category="progression",
        event_type="streak_incremented",
        start_time="2026-03-09T12:00:00Z",
        end_time="2026-03-10T00:00:00Z",
    )
    assert [e["id"] for e in events] == [ids["streak_fast"]]


@pytest.mark.parametrize(
    ("start", "end"),
    [("2026-03-09T12:00:00Z", "2026-03-09T11:00:00Z"), ("2026-03-09T12:00:00Z", "2026-03-09T12:00:00Z")],
)
async def test_list_with_end_not_after_start_is_refused(
    app: FastAPI, client: httpx.AsyncClient, start: str, end: str
) -> None:
    user = await anonymous_user(app)
    response = await client.get(EVENTS, params={"start_time": start, "end_time": end}, headers=user.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_PERIOD"


async def test_list_limit_above_500_is_refused_and_500_is_accepted(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.get(EVENTS, params={"limit": 501}, headers=user.headers)
    assert response.status_code == 422
    assert ["query", "limit"] in [e["loc"] for e in response.json()["errors"]]
    assert (await client.get(EVENTS, params={"limit": 500}, headers=user.headers)).status_code == 200
    assert (await client.get(EVENTS, params={"limit": 0}, headers=user.headers)).status_code == 422


async def test_list_pages_with_limit_and_offset(
    app: FastAPI, client: httpx.AsyncClient, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    ids = await seed_day(user, server_event)
    newest_first = [
        ids[k]
        for k in (
            "streak_fast",
            "fast_completed",
            "weight_logged",
            "streak_workout",
            "workout_completed",
            "fast_started",
        )
    ]
    pages = [
        [e["id"] for e in await get_json(client, user, "", end_time="2026-03-10T00:00:00Z", limit=4, offset=offset)]
        for offset in (0, 4, 8)
    ]
    assert pages == [newest_first[:4], newest_first[4:], []]


async def test_list_negative_offset_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.get(EVENTS, params={"offset": -1}, headers=user.headers)
    assert response.status_code == 422


async def test_list_unknown_category_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.get(EVENTS, params={"category": "nonsense"}, headers=user.headers)
    assert response.status_code == 422


# GET /events/by-related ------------------------------------------------------------------------


async def test_by_related_returns_the_events_of_one_resource_oldest_first(
    app: FastAPI, client: httpx.AsyncClient, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    window = uuid.uuid4()
    completed = await server_event(user, E.FAST_COMPLETED, at=at(22), related_id=window, related_type="time_window")
    started = await server_event(user, E.FAST_STARTED, at=at(6), related_id=window, related_type="time_window")
    extended = await server_event(user, E.FAST_EXTENDED, at=at(14), related_id=window, related_type="time_window")
    await server_event(user, E.FAST_STARTED, at=at(23), related_id=uuid.uuid4(), related_type="time_window")
    events = await get_json(client, user, "/by-related", related_id=str(window))
    assert [e["id"] for e in events] == [started, extended, completed]
    assert {e["related_type"] for e in events} == {"time_window"}


async def test_by_related_filters_by_related_type(
    app: FastAPI, client: httpx.AsyncClient, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    shared_id = str(uuid.uuid4())
    recipe = await server_event(user, E.RECIPE_SAVED, at=at(7), related_id=shared_id, related_type="recipe")
    session = await server_event(
        user, E.WORKOUT_STARTED, at=at(8), related_id=shared_id, related_type="workout_session"
    )
    assert [e["id"] for e in await get_json(client, user, "/by-related", related_id=shared_id)] == [recipe, session]
    only_recipe = await get_json(client, user, "/by-related", related_id=shared_id, related_type="recipe")
    assert [e["id"] for e in only_recipe] == [recipe]
    assert await get_json(client, user, "/by-related", related_id=shared_id, related_type="metric") == []


async def test_by_related_pages_with_limit_and_offset(
    app: FastAPI, client: httpx.AsyncClient, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    window = str(uuid.uuid4())
    ids = [await server_event(user, E.FAST_EXTENDED, at=at(hour), related_id=window) for hour in range(6, 11)]

    page = await get_json(client, user, "/by-related", related_id=window, limit=2, offset=2)

    assert [e["id"] for e in page] == ids[2:4]
    assert await get_json(client, user, "/by-related", related_id=window, limit=2, offset=5) == []


async def test_by_related_answers_at_most_100_events_by_default(
    app: FastAPI, client: httpx.AsyncClient, server_events_at_once: RecordManyServerEvents
) -> None:
    user = await anonymous_user(app)
    window = str(uuid.uuid4())
    await server_events_at_once(user, E.FAST_EXTENDED, 130, at=at(6), related_id=window)

    assert len(await get_json(client, user, "/by-related", related_id=window)) == 100
    assert len(await get_json(client, user, "/by-related", related_id=window, limit=500)) == 130


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 501}, {"offset": -1}])
async def test_by_related_page_out_of_bounds_is_refused(
    app: FastAPI, client: httpx.AsyncClient, params: dict[str, int]
) -> None:
    user = await anonymous_user(app)
    response = await client.get(f"{EVENTS}/by-related", params={"related_id": "x", **params}, headers=user.headers)
    assert response.status_code == 422
    assert ["query", next(iter(params))] in [e["loc"] for e in response.json()["errors"]]


@pytest.mark.parametrize("field", ["related_id", "related_type"])
async def test_by_related_with_a_nul_character_is_refused(app: FastAPI, client: httpx.AsyncClient, field: str) -> None:
    user = await anonymous_user(app)
    params = {"related_id": "window-1", field: "window\x00-1"}
    response = await client.get(f"{EVENTS}/by-related", params=params, headers=user.headers)
    assert response.status_code == 422
    assert ["query", field] in [e["loc"] for e in response.json()["errors"]]


async def test_by_related_without_related_id_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.get(f"{EVENTS}/by-related", headers=user.headers)
    assert response.status_code == 422
    assert ["query", "related_id"] in [e["loc"] for e in response.json()["errors"]]


# GET /events/summary ---------------------------------------------------------------------------


async def test_summary_counts_by_category_and_type_within_the_period(
    app: FastAPI, client: httpx.AsyncClient, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    await seed_day(user, server_event)
    await server_event(user, E.FAST_STARTED, at=DAY - timedelta(minutes=1))  # the evening before: outside
    summary = await get_json(
        client, user, "/summary", start_time="2026-03-09T00:00:00Z", end_time="2026-03-10T00:00:00Z"
    )
    assert summary == {
        "total_events": 6,
        "events_by_category": {"fasting": 2, "workout": 1, "progression": 2, "metrics": 1},
        "events_by_type": {
            "fast_started": 1,
            "fast_completed": 1,
            "workout_completed": 1,
            "streak_incremented": 2,
            "weight_logged": 1,
        },
        "period_start": "2026-03-09T00:00:00Z",
        "period_end": "2026-03-10T00:00:00Z",
    }


async def test_summary_of_an_empty_period_is_zero(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    summary = await get_json(
        client, user, "/summary", start_time="2025-01-01T00:00:00Z", end_time="2025-02-01T00:00:00Z"
    )
    assert summary["total_events"] == 0
    assert summary["events_by_category"] == {}
    assert summary["events_by_type"] == {}


async def test_summary_counts_every_event_beyond_ten_thousand(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    from sqlalchemy import insert

    from src.core.uow import UnitOfWork
    from src.modules.event_journal.manifest import recount
    from src.modules.event_journal.orm import ActivityEventRow

    user = await anonymous_user(app)
    identity = uuid.UUID(user.id)
    rows = [
        {
            "id": uuid.uuid4(),
            "identity_id": identity,
            "event_type": "app_opened",
            "category": "app",
            "occurred_at": DAY + timedelta(seconds=n),
            "source": "mobile",
            "event_metadata": {},
            "created_at": clock.now(),
        }
        for n in range(10_050)
    ]
    async with app.state.sessions.writer() as session:
        await session.execute(insert(ActivityEventRow), rows)
        await recount(UnitOfWork(session=session, resources=app.state.resources), identity)  # a bulk load
        await session.commit()
    summary = await get_json(
        client, user, "/summary", start_time="2026-03-09T00:00:00Z", end_time="2026-03-10T00:00:00Z"
    )
    assert summary["total_events"] == 10_050
    assert summary["events_by_type"] == {"app_opened": 10_050}


@pytest.mark.parametrize(
    "params",
    [{}, {"start_time": "2026-03-09T00:00:00Z"}, {"end_time": "2026-03-10T00:00:00Z"}],
)
async def test_summary_needs_both_bounds(app: FastAPI, client: httpx.AsyncClient, params: dict[str, str]) -> None:
    user = await anonymous_user(app)
    response = await client.get(f"{EVENTS}/summary", params=params, headers=user.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"


async def test_summary_with_end_before_start_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.get(
        f"{EVENTS}/summary",
        params={"start_time": "2026-03-10T00:00:00Z", "end_time": "2026-03-09T00:00:00Z"},
        headers=user.headers,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_PERIOD"


# GET /events/count -----------------------------------------------------------------------------


async def test_count_counts_one_type_optionally_within_a_period(
    app: FastAPI, client: httpx.AsyncClient, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    await seed_day(user, server_event)
    assert await get_json(client, user, "/count", event_type="streak_incremented") == {
        "event_type": "streak_incremented",
        "count": 2,
    }
    morning = await get_json(client, user, "/count", event_type="streak_incremented", end_time="2026-03-09T12:00:00Z")
    assert morning["count"] == 1
    evening = await get_json(
        client,
        user,
        "/count",
        event_type="streak_incremented",
        start_time="2026-03-09T12:00:00Z",
        end_time="2026-03-10T00:00:00Z",
    )
    assert evening["count"] == 1


async def test_count_of_a_type_never_recorded_is_zero(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert (await get_json(client, user, "/count", event_type="level_up"))["count"] == 0


async def test_count_without_event_type_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.get(f"{EVENTS}/count", headers=user.headers)
    assert response.status_code == 422


async def test_count_with_end_before_start_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.get(
        f"{EVENTS}/count",
        params={"event_type": "login", "start_time": "2026-03-10T00:00:00Z", "end_time": "2026-03-09T00:00:00Z"},
        headers=user.headers,
    )
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_PERIOD"


# GET /events/{id} ------------------------------------------------------------------------------


async def test_get_own_event_returns_it(
    app: FastAPI, client: httpx.AsyncClient, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    window = uuid.uuid4()
    event_id = await server_event(
        user,
        E.FAST_COMPLETED,
        at=at(22),
        related_id=window,
        related_type="time_window",
        metadata={"duration_hours": 16.0},
    )
    event = await get_json(client, user, f"/{event_id}")
    assert event == {
        "id": event_id,
        "identity_id": user.id,
        "event_type": "fast_completed",
        "category": "fasting",
        "timestamp": "2026-03-09T22:00:00Z",
        "related_id": str(window),
        "related_type": "time_window",
        "source": "system",
        "metadata": {"duration_hours": 16.0},
        "description": None,
        "created_at": "2026-03-10T12:00:00Z",
    }


async def test_get_event_of_another_user_is_404_not_403(
    app: FastAPI, client: httpx.AsyncClient, server_event: RecordServerEvent
) -> None:
    owner = await anonymous_user(app)
    other = await anonymous_user(app)
    event_id = await server_event(owner, E.WEIGHT_LOGGED, metadata={"value": 70})
    response = await client.get(f"{EVENTS}/{event_id}", headers=other.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "EVENT_NOT_FOUND"
    assert "weight" not in response.text
    unknown = await client.get(f"{EVENTS}/{uuid.uuid4()}", headers=other.headers)
    assert unknown.json()["detail"] == response.json()["detail"]  # indistinguishable from a missing one


async def test_get_unknown_event_is_404(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.get(f"{EVENTS}/{uuid.uuid4()}", headers=user.headers)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "EVENT_NOT_FOUND"


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g"])
async def test_get_event_with_malformed_id_is_422(app: FastAPI, client: httpx.AsyncClient, bad_id: str) -> None:
    user = await anonymous_user(app)
    response = await client.get(f"{EVENTS}/{bad_id}", headers=user.headers)
    assert response.status_code == 422
    assert ["path", "event_id"] in [e["loc"] for e in response.json()["errors"]]
