"""The iCal feed: a secret, revocable URL; a calendar client's parser (the `icalendar` package)
reads it; times are in the person's zone with its VTIMEZONE; no health values in the text."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from icalendar import Calendar

from src.core.clock import FrozenClock
from tests.factories import User, anonymous_user
from tests.http import assert_problem, ok
from tests.support import iso

API = "/api/v1"
FEED = f"{API}/integrations/calendar"


@pytest.fixture
def settings_overrides() -> dict[str, object]:
    return {"rate_limit_enabled": False}


async def set_timezone(client: httpx.AsyncClient, user: User, zone: str) -> None:
    ok(await client.patch(f"{API}/profile/preferences", headers=user.headers, json={"timezone": zone}))


async def completed_fast(client: httpx.AsyncClient, user: User, clock: FrozenClock, hours: float) -> dict[str, Any]:
    opened = ok(
        await client.post(
            f"{API}/time-keeper/windows",
            headers=user.headers,
            json={"window_type": "fast", "protocol": "16:8", "start_time": iso(clock.now() - timedelta(hours=hours))},
        ),
        201,
    )
    return ok(await client.post(f"{API}/time-keeper/windows/{opened['id']}/close", headers=user.headers))  # type: ignore[no-any-return]


async def test_feed_lists_fasts_and_workouts_in_the_persons_zone(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await set_timezone(client, user, "Europe/Berlin")
    ok(await client.post(f"{API}/metrics", headers=user.headers, json={"metric_type": "weight_kg", "value": 81.3}), 201)
    fast = await completed_fast(client, user, clock, hours=17)
    workouts = ok(await client.get(f"{API}/content/workouts", params={"limit": 1}, headers=user.headers))
    session = ok(
        await client.post(f"{API}/content/sessions", headers=user.headers, json={"workout_id": workouts[0]["id"]}), 201
    )
    clock.advance(minutes=workouts[0]["duration_minutes"])
    ok(await client.post(f"{API}/content/sessions/{session['id']}/complete", headers=user.headers, json={}))
    # A running fast is the planned one.
    ok(
        await client.post(
            f"{API}/time-keeper/windows", headers=user.headers, json={"window_type": "fast", "protocol": "18:6"}
        ),
        201,
    )

    feed = ok(await client.post(FEED, headers=user.headers), 201)
    assert feed["webcal_url"] == "webcal://" + feed["url"].split("://", 1)[1]
    response = await client.get(feed["url"].replace("http://testserver", ""))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/calendar")

    calendar = Calendar.from_ical(response.content)
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Berlin"
    events = {str(e["SUMMARY"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {"Fast (16:8)", f"Workout: {workouts[0]['name']}", "Planned fast (18:6)", "Eating window"}
    done = events["Fast (16:8)"]
    assert str(done["UID"]) == f"fast-{fast['id']}@ugoki"
    assert done["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert done.decoded("DTSTART").utcoffset() == timedelta(hours=1)  # March 2026: CET
    assert "Eating window: 13:00–21:00" in str(done["DESCRIPTION"])  # ended 12:00 UTC = 13:00 Berlin
    planned = events["Planned fast (18:6)"]
    assert planned.decoded("DTEND") - planned.decoded("DTSTART") == timedelta(hours=18)
    text = " ".join(str(e.get(k, "")) for e in calendar.walk("VEVENT") for k in ("SUMMARY", "DESCRIPTION"))
    assert "81" not in text  # no weight (or any other health value) in the event text


async def test_revoking_the_url_gives_404_and_regenerating_replaces_it(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    first = ok(await client.post(FEED, headers=user.headers), 201)
    second = ok(await client.post(FEED, headers=user.headers), 201)
    assert first["url"] != second["url"]
    assert_problem(await client.get(first["url"]), 404, "CALENDAR_FEED_NOT_FOUND")
    assert (await client.get(second["url"])).status_code == 200
    status = ok(await client.get(FEED, headers=user.headers))
    assert status["active"] is True
    assert status["last_fetched_at"] is not None

    assert (await client.delete(FEED, headers=user.headers)).status_code == 204
    assert_problem(await client.get(second["url"]), 404, "CALENDAR_FEED_NOT_FOUND")
    assert ok(await client.get(FEED, headers=user.headers))["active"] is False
    assert_problem(await client.delete(FEED, headers=user.headers), 404)


async def test_guessed_tokens_find_nothing_and_the_feed_is_erased_with_the_account(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    feed = ok(await client.post(FEED, headers=user.headers), 201)
    assert_problem(await client.get(f"{FEED}/{'A' * 43}.ics"), 404)
    ok(await client.delete(f"{API}/profile/all-data", params={"confirm": "true"}, headers=user.headers))
    assert_problem(await client.get(feed["url"]), 404)


async def test_challenges_one_takes_part_in_are_all_day_events_and_others_are_not(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    from datetime import date

    from tests.social.helpers import create_challenge, person

    ana, _ = await person(app, client, "ana")
    ben, _ = await person(app, client, "ben")
    await set_timezone(client, ana, "America/New_York")
    joined = await create_challenge(
        client, ben, name="Spring fasting", start_date="2026-03-12", end_date="2026-03-25", goal_value=5
    )
    ok(await client.post(f"{API}/social/challenges/join/{joined['join_code']}", headers=ana.headers))
    await create_challenge(client, ben, name="Ben's own", start_date="2026-03-11", end_date="2026-03-18")
    await create_challenge(client, ben, name="Public but not joined", is_public=True)

    feed = ok(await client.post(FEED, headers=ana.headers), 201)
    calendar = Calendar.from_ical((await client.get(feed["url"])).content)
    challenges = [e for e in calendar.walk("VEVENT") if str(e["SUMMARY"]).startswith("Challenge:")]
    assert [str(e["SUMMARY"]) for e in challenges] == ["Challenge: Spring fasting"]
    [event] = challenges
    assert str(event["UID"]) == f"challenge-{joined['id']}@ugoki"
    assert event.decoded("DTSTART") == date(2026, 3, 12)  # a date: an all-day event
    assert event.decoded("DTEND") == date(2026, 3, 26)  # exclusive: the 25th is its last day
    assert str(event["TRANSP"]) == "TRANSPARENT"
    assert "5" not in str(event.get("DESCRIPTION", ""))  # no goal or progress figures

    # Ben created (and so is in) all three.
    ben_feed = ok(await client.post(FEED, headers=ben.headers), 201)
    ben_calendar = Calendar.from_ical((await client.get(ben_feed["url"])).content)
    assert sorted(str(e["SUMMARY"]) for e in ben_calendar.walk("VEVENT")) == [
        "Challenge: Ben's own",
        "Challenge: Public but not joined",
        "Challenge: Spring fasting",
    ]
