"""GET /events/feed: the activity feed the app shows, newest first, with titles, icons and
one-line descriptions, filtered by category and paged with the `before` cursor."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from src.modules.event_journal import EventType
from tests.event_journal.conftest import EVENTS, RecordManyServerEvents, RecordServerEvent
from tests.factories import User, anonymous_user

FEED = f"{EVENTS}/feed"
E = EventType


async def read_feed(client: httpx.AsyncClient, user: User, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(FEED, params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def fasting_feed(client: httpx.AsyncClient, user: User) -> list[dict[str, Any]]:
    """The feed without the sign-up events (account created, logged in)."""
    return [item for item in await read_feed(client, user, limit=100) if item["category"] != "auth"]


async def test_feed_lists_newest_first_with_utc_timestamps(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    now = clock.now()
    await server_event(user, E.FAST_STARTED, at=now + timedelta(minutes=1))
    await server_event(user, E.FAST_COMPLETED, at=now + timedelta(minutes=3))
    await server_event(user, E.STREAK_INCREMENTED, at=now + timedelta(minutes=2))
    items = await read_feed(client, user)
    assert [i["event_type"] for i in items[:3]] == ["fast_completed", "streak_incremented", "fast_started"]
    assert [i["timestamp"] for i in items[:3]] == [
        "2026-03-10T12:03:00Z",
        "2026-03-10T12:02:00Z",
        "2026-03-10T12:01:00Z",
    ]
    # The sign-up events come last, being the oldest.
    assert {i["event_type"] for i in items[3:]} == {"identity_created", "login"}


SPEC_TITLES = {
    E.IDENTITY_CREATED: ("Account Created", "user-plus"),
    E.LOGIN: ("Logged In", "log-in"),
    E.LOGOUT: ("Logged Out", "log-out"),
    E.FAST_STARTED: ("Fast Started", "clock"),
    E.FAST_PAUSED: ("Fast Paused", "pause"),
    E.FAST_RESUMED: ("Fast Resumed", "play"),
    E.FAST_COMPLETED: ("Fast Completed", "check-circle"),
    E.FAST_ABANDONED: ("Fast Ended Early", "x-circle"),
    E.FAST_EXTENDED: ("Fast Extended", "plus-circle"),
    E.WORKOUT_STARTED: ("Workout Started", "activity"),
    E.WORKOUT_COMPLETED: ("Workout Completed", "award"),
    E.WORKOUT_ABANDONED: ("Workout Ended Early", "x-circle"),
    E.XP_EARNED: ("XP Earned", "star"),
    E.LEVEL_UP: ("Level Up!", "trending-up"),
    E.STREAK_INCREMENTED: ("Streak Extended", "flame"),
    E.STREAK_RESET: ("Streak Reset", "refresh-cw"),
    E.ACHIEVEMENT_UNLOCKED: ("Achievement Unlocked", "trophy"),
    E.WEIGHT_LOGGED: ("Weight Logged", "scale"),
    E.BIOMARKER_UPLOADED: ("Bloodwork Uploaded", "file-text"),
    E.METRIC_RECORDED: ("Metric Recorded", "bar-chart"),
    E.RECIPE_SAVED: ("Recipe Saved", "bookmark"),
    E.RECIPE_UNSAVED: ("Recipe Removed", "bookmark-minus"),
}
SPEC_ICONS_ONLY = {
    E.PROFILE_CREATED: "user",
    E.PROFILE_UPDATED: "edit",
    E.GOALS_UPDATED: "target",
    E.PREFERENCES_UPDATED: "settings",
    E.COACH_MESSAGE_SENT: "message-circle",
    E.COACH_INSIGHT_VIEWED: "lightbulb",
}


async def test_feed_titles_and_icons_follow_the_spec_table(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    for n, event_type in enumerate([*SPEC_TITLES, *SPEC_ICONS_ONLY]):
        await server_event(user, event_type, at=clock.now() - timedelta(minutes=n + 1))
    items = await read_feed(client, user, limit=100)
    seen = {(i["event_type"], i["title"], i["icon"]) for i in items}
    for event_type, (title, icon) in SPEC_TITLES.items():
        assert (str(event_type), title, icon) in seen
    icons = {i["event_type"]: i["icon"] for i in items}
    for event_type, icon in SPEC_ICONS_ONLY.items():
        assert icons[str(event_type)] == icon


@pytest.mark.parametrize(
    ("event_type", "metadata", "description"),
    [
        (
            E.FAST_COMPLETED,
            {"duration_hours": 16.02, "duration_seconds": 57672, "xp_earned": 50},
            "16 hour fast · 50 XP earned",
        ),
        (E.FAST_COMPLETED, {"duration_hours": 17.6, "window_type": "fast"}, "18 hour fast"),
        (
            E.WORKOUT_COMPLETED,
            {"workout_name": "HIIT Blast", "duration_minutes": 20, "xp_earned": 45},
            "HIIT Blast · 20 min · 45 XP",
        ),
        (E.WORKOUT_COMPLETED, {"workout_name": "Core Crusher", "duration_minutes": 12}, "Core Crusher · 12 min"),
        (E.XP_EARNED, {"amount": 25, "reason": "weekly bonus"}, "+25 XP for weekly bonus"),
        (E.XP_EARNED, {"amount": 10}, "+10 XP"),
        (E.LEVEL_UP, {"new_level": 3, "total_xp": 300, "title": "Apprentice"}, "Reached level 3"),
        (E.ACHIEVEMENT_UNLOCKED, {"name": "First Fast", "type": "fasting", "xp_reward": 50}, "First Fast"),
        (E.WEIGHT_LOGGED, {"metric_type": "weight", "value": 72.5, "unit": "kg"}, "72.5 kg"),
        (E.WEIGHT_LOGGED, {"metric_type": "weight", "value": 160, "unit": "lb"}, "160 lb"),
        (E.WEIGHT_LOGGED, {"metric_type": "weight", "value": 80}, "80 kg"),
        (E.STREAK_INCREMENTED, {"streak_type": "fasting", "count": 3}, "Fasting streak: 3 days"),
        (E.STREAK_RESET, {"streak_type": "workout", "previous_count": 5}, "Workout streak reset after 5 days"),
    ],
)
async def test_feed_describes_events_from_their_metadata(
    app: FastAPI,
    client: httpx.AsyncClient,
    server_event: RecordServerEvent,
    event_type: EventType,
    metadata: dict[str, Any],
    description: str,
) -> None:
    user = await anonymous_user(app)
    event_id = await server_event(user, event_type, metadata=metadata)
    item = next(i for i in await read_feed(client, user) if i["id"] == event_id)
    assert item["description"] == description
    assert item["metadata"] == metadata


async def test_feed_prefers_the_stored_description(
    app: FastAPI, client: httpx.AsyncClient, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    event_id = await server_event(user, E.FAST_COMPLETED, metadata={"duration_hours": 16}, description="Personal best!")
    item = next(i for i in await read_feed(client, user) if i["id"] == event_id)
    assert item["description"] == "Personal best!"


async def test_feed_description_is_the_types_line_when_metadata_says_nothing(
    app: FastAPI, client: httpx.AsyncClient, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    event_id = await server_event(user, E.FAST_COMPLETED, metadata={"duration_hours": "not a number"})
    item = next(i for i in await read_feed(client, user) if i["id"] == event_id)
    assert item["description"] == "You completed a fast"
    assert item["title"] == "Fast Completed"


async def test_feed_still_answers_when_stored_metadata_is_not_numeric(
    app: FastAPI, client: httpx.AsyncClient, server_event: RecordServerEvent
) -> None:
    # Producers copy client-supplied metadata into some events; one odd value must not break the feed.
    user = await anonymous_user(app)
    odd = await server_event(user, E.FAST_COMPLETED, metadata={"duration_hours": "inf", "xp_earned": "nan"})
    level = await server_event(user, E.LEVEL_UP, metadata={"new_level": True})
    response = await client.get(FEED, headers=user.headers)
    assert response.status_code == 200, response.text
    descriptions = {i["id"]: i["description"] for i in response.json()}
    assert descriptions[odd] == "You completed a fast"
    assert descriptions[level] == "You reached a new level"


async def test_feed_category_filter_returns_only_that_category(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    await server_event(user, E.FAST_STARTED, at=clock.now() - timedelta(hours=2))
    await server_event(user, E.WORKOUT_COMPLETED, at=clock.now() - timedelta(hours=1))
    await server_event(user, E.FAST_COMPLETED, at=clock.now() - timedelta(minutes=30))
    items = await read_feed(client, user, category="fasting")
    assert [i["event_type"] for i in items] == ["fast_completed", "fast_started"]
    assert [i["event_type"] for i in await read_feed(client, user, category="workout")] == ["workout_completed"]
    assert await read_feed(client, user, category="social") == []


async def test_feed_unknown_category_is_a_validation_error(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.get(FEED, params={"category": "gossip"}, headers=user.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"


@pytest.mark.parametrize("limit", [0, -1, 101])
async def test_feed_limit_out_of_bounds_is_refused(app: FastAPI, client: httpx.AsyncClient, limit: int) -> None:
    user = await anonymous_user(app)
    response = await client.get(FEED, params={"limit": limit}, headers=user.headers)
    assert response.status_code == 422
    assert ["query", "limit"] in [e["loc"] for e in response.json()["errors"]]


async def test_feed_returns_20_by_default_and_at_most_limit(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    for n in range(25):
        await server_event(user, E.XP_EARNED, at=clock.now() - timedelta(minutes=n + 1), metadata={"amount": n})
    assert len(await read_feed(client, user)) == 20
    assert len(await read_feed(client, user, limit=5)) == 5
    assert len(await read_feed(client, user, limit=100)) == 27  # with the two sign-up events


async def page_through(
    client: httpx.AsyncClient, user: User, *, limit: int, keyset: bool = False, **filters: Any
) -> list[list[str]]:
    """Follow the cursor the way the app does: the timestamp of the last item shown (`before`),
    and with `keyset` its id too (`before_id`)."""
    pages: list[list[str]] = []
    cursor: dict[str, str] = {}
    for _ in range(50):
        items = await read_feed(client, user, limit=limit, **filters, **cursor)
        if not items:
            return pages
        pages.append([i["id"] for i in items])
        cursor = {"before": items[-1]["timestamp"]}
        if keyset:
            cursor["before_id"] = items[-1]["id"]
    raise AssertionError("paging did not end")


async def test_feed_before_cursor_pages_without_overlap_or_gap(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    ids = [
        await server_event(user, E.FAST_COMPLETED, at=clock.now() - timedelta(hours=n), metadata={"duration_hours": n})
        for n in range(1, 13)
    ]
    pages = await page_through(client, user, limit=5, category="fasting")
    assert [len(p) for p in pages] == [5, 5, 2]
    assert [event_id for page in pages for event_id in page] == ids  # newest first, each exactly once


@pytest.mark.parametrize("keyset", [False, True], ids=["before", "before+before_id"])
async def test_feed_before_cursor_keeps_events_that_share_the_boundary_instant(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, server_event: RecordServerEvent, keyset: bool
) -> None:
    # A completed fast writes several events in one transaction, all at the same instant; a page
    # boundary falling inside such a group must neither skip nor repeat any of them.
    user = await anonymous_user(app)
    same_instant = clock.now() - timedelta(hours=1)
    ids = [await server_event(user, E.XP_EARNED, at=clock.now() - timedelta(minutes=5), metadata={"amount": 5})]
    for event_type in (E.FAST_COMPLETED, E.STREAK_INCREMENTED, E.LEVEL_UP, E.ACHIEVEMENT_UNLOCKED):
        ids.append(await server_event(user, event_type, at=same_instant))
    ids.append(await server_event(user, E.FAST_STARTED, at=clock.now() - timedelta(hours=17)))
    for limit in (1, 2, 3):
        pages = await page_through(client, user, limit=limit, keyset=keyset, category="progression")
        seen = [event_id for page in pages for event_id in page]
        assert sorted(seen) == sorted(ids[:1] + ids[2:5]), f"limit={limit}: {pages}"
        pages = await page_through(client, user, limit=limit, keyset=keyset)
        seen = [event_id for page in pages for event_id in page]
        assert len(seen) == len(set(seen)), f"limit={limit}: an event was repeated"
        assert set(ids) <= set(seen), f"limit={limit}: an event at a page boundary was skipped"
        assert len(seen) == len(ids) + 2  # and the two sign-up events


async def test_feed_page_stays_bounded_when_many_events_share_its_last_instant(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, server_events_at_once: RecordManyServerEvents
) -> None:
    user = await anonymous_user(app)
    await server_events_at_once(user, E.XP_EARNED, 300, at=clock.now() - timedelta(minutes=1))

    page = await read_feed(client, user, limit=20)

    # 20, and at most 100 more of the group sharing the last instant: not all 300.
    assert len(page) == 120
    assert len({item["id"] for item in page}) == 120


async def test_feed_before_and_before_id_page_through_a_large_group_without_skip_or_repeat(
    app: FastAPI,
    client: httpx.AsyncClient,
    clock: FrozenClock,
    server_event: RecordServerEvent,
    server_events_at_once: RecordManyServerEvents,
) -> None:
    user = await anonymous_user(app)
    newest = await server_event(user, E.LEVEL_UP, at=clock.now() - timedelta(minutes=1))
    group = await server_events_at_once(user, E.XP_EARNED, 250, at=clock.now() - timedelta(minutes=2))
    oldest = await server_event(user, E.STREAK_INCREMENTED, at=clock.now() - timedelta(minutes=3))

    pages = await page_through(client, user, limit=20, keyset=True, category="progression")

    seen = [event_id for page in pages for event_id in page]
    assert len(seen) == len(set(seen)) == 252
    assert seen[0] == newest
    assert seen[-1] == oldest
    assert set(seen[1:-1]) == set(group)
    assert max(len(page) for page in pages) <= 120


async def test_feed_before_id_without_before_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    response = await client.get(FEED, params={"before_id": str(uuid.uuid4())}, headers=user.headers)

    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_CURSOR"


async def test_feed_before_cursor_accepts_an_offset_timestamp(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, server_event: RecordServerEvent
) -> None:
    user = await anonymous_user(app)
    older = await server_event(user, E.FAST_STARTED, at=datetime.fromisoformat("2026-03-10T09:00:00+00:00"))
    await server_event(user, E.FAST_COMPLETED, at=datetime.fromisoformat("2026-03-10T11:00:00+00:00"))
    # 12:00 at +02:00 is 10:00 UTC: only the 09:00 UTC event is older.
    items = await read_feed(client, user, category="fasting", before="2026-03-10T12:00:00+02:00")
    assert [i["id"] for i in items] == [older]


async def test_feed_before_cursor_that_is_not_a_date_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.get(FEED, params={"before": "yesterday-ish"}, headers=user.headers)
    assert response.status_code == 422
