"""What the timer writes to the activity feed, and the onboarding step a first fast completes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import User, anonymous_user
from tests.time_keeper.helpers import (
    FEED,
    ONBOARDING,
    WINDOWS,
    close_window,
    iso,
    later,
    ok,
    open_fast_started,
    open_window,
    parse,
)


async def _fasting_feed(client: httpx.AsyncClient, user: User) -> list[dict[str, Any]]:
    return ok(await client.get(FEED, headers=user.headers, params={"category": "fasting", "limit": 100}))  # type: ignore[no-any-return]


def _of_type(feed: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    return [item for item in feed if item["event_type"] == event_type]


async def test_a_fasts_life_is_told_in_the_feed_newest_first(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user, protocol="16:8")
    await later(app, clock, user, hours=2)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/pause", headers=user.headers))
    await later(app, clock, user, minutes=30)
    ok(await client.post(f"{WINDOWS}/{fast['id']}/resume", headers=user.headers))
    clock.advance(minutes=1)
    new_end = iso(clock.now() + timedelta(hours=13))
    ok(await client.post(f"{WINDOWS}/{fast['id']}/extend", headers=user.headers, json={"new_end": new_end}))
    await later(app, clock, user, hours=14)
    closed = ok(await close_window(client, user, fast["id"], end_state="completed"))

    feed = await _fasting_feed(client, user)

    fast_events = [item["event_type"] for item in feed if item["related_id"] == fast["id"]]
    assert fast_events == ["fast_completed", "fast_extended", "fast_resumed", "fast_paused", "fast_started"]
    for item in feed:
        if item["related_id"] == fast["id"]:
            assert item["related_type"] == "time_window"
            assert item["category"] == "fasting"
    (completed,) = _of_type(feed, "fast_completed")
    # The parts add up to what the close answer says it earned (the achievements are not "fast" XP).
    assert completed["description"] == (
        "16 h fast: 50 XP, +25 XP achievement 'First Fast', +50 XP achievement 'Welcome to UGOKI'"
    )
    assert closed["xp_earned"] == 125
    assert (closed["base_xp"], closed["streak_bonus_xp"], closed["achievement_xp"]) == (50, 0, 75)
    assert completed["metadata"]["duration_seconds"] == closed["elapsed_seconds"]
    assert completed["metadata"]["goal_met"] is True
    (extended,) = _of_type(feed, "fast_extended")
    assert extended["metadata"]["new_scheduled_end"] == new_end
    (resumed,) = _of_type(feed, "fast_resumed")
    assert resumed["metadata"]["paused_seconds"] == 30 * 60
    (started,) = _of_type(feed, "fast_started")
    assert started["metadata"]["protocol"] == "16:8"


async def test_abandoning_a_fast_records_fast_abandoned_and_no_completion(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=5)

    ok(await close_window(client, user, fast["id"], end_state="abandoned"))

    feed = await _fasting_feed(client, user)
    (abandoned,) = _of_type(feed, "fast_abandoned")
    assert abandoned["related_id"] == fast["id"]
    assert abandoned["metadata"]["duration_hours"] == 5
    assert _of_type(feed, "fast_completed") == []


async def test_refused_transitions_write_nothing_to_the_feed(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    fast = await open_window(client, user)
    ok(await close_window(client, user, fast["id"], end_state="abandoned"))
    before = await _fasting_feed(client, user)

    for action in ("close", "pause", "resume"):
        assert (await client.post(f"{WINDOWS}/{fast['id']}/{action}", headers=user.headers)).status_code == 409
    assert (
        await client.post(WINDOWS, headers=user.headers, json={"window_type": "fast", "protocol": "9:15"})
    ).status_code == 422

    assert await _fasting_feed(client, user) == before


async def test_a_short_completed_fast_is_in_the_feed_without_xp(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=3)

    ok(await close_window(client, user, fast["id"], end_state="completed"))

    (completed,) = _of_type(await _fasting_feed(client, user), "fast_completed")
    assert completed["description"] == "3 h fast: no XP (Fasts under 12 hours earn no XP or streak credit)"
    assert completed["metadata"]["xp_earned"] == 0


async def test_a_logged_past_fast_appears_once_at_its_own_time(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    start = clock.now() - timedelta(hours=40)

    logged = await open_window(client, user, start_time=iso(start), end_time=iso(start + timedelta(hours=18)))

    feed = await _fasting_feed(client, user)
    (item,) = [item for item in feed if item["related_id"] == logged["id"]]
    assert item["event_type"] == "fast_logged"
    assert item["title"] == "Past Fast Logged"
    assert parse(item["timestamp"]) == start + timedelta(hours=18)
    assert item["description"] == (
        "18 h fast: 75 XP, +25 XP achievement 'First Fast', +50 XP achievement 'Welcome to UGOKI'"
    )
    assert _of_type(feed, "fast_completed") == []


async def test_first_completed_fast_marks_the_onboarding_step(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    assert ok(await client.get(ONBOARDING, headers=user.headers))["first_fast_completed"] is False
    fast = await open_fast_started(client, user, clock, hours_ago=13)

    ok(await close_window(client, user, fast["id"], end_state="completed"))

    assert ok(await client.get(ONBOARDING, headers=user.headers))["first_fast_completed"] is True


async def test_an_abandoned_fast_does_not_complete_the_onboarding_step(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    fast = await open_fast_started(client, user, clock, hours_ago=13)

    ok(await close_window(client, user, fast["id"], end_state="abandoned"))

    assert ok(await client.get(ONBOARDING, headers=user.headers))["first_fast_completed"] is False


async def test_the_events_of_one_close_keep_their_causal_order(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """Newest first: what the fast earned (achievements, then the level) above the streak it
    extended, above the fast itself, however the ids would have sorted by chance."""
    for _ in range(3):
        user = await anonymous_user(app)
        fast = await open_fast_started(client, user, clock, hours_ago=16)
        ok(await close_window(client, user, fast["id"]))
        feed = ok(await client.get(FEED, headers=user.headers, params={"limit": 50}))
        order = [item["event_type"] for item in feed if item["event_type"] != "fast_started"]
        assert order.index("fast_completed") > order.index("streak_incremented")
        assert order.index("streak_incremented") > max(i for i, t in enumerate(order) if t == "achievement_unlocked")
        assert order.index("achievement_unlocked") > order.index("level_up")
