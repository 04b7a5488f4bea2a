"""The iCal feed: a secret URL per person serving an RFC 5545 calendar of their fasts (planned
and completed, with the protocol and the eating window that follows), completed workouts, and
the challenges they take part in (all-day events over the challenge's dates), in their time zone
(with its VTIMEZONE). Event text names activities, challenges and times only: no weights, no
biomarkers, no progress, no other health values. Only a keyed hash of the URL's token is stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from src.core.persistence import rowcount
from src.core.uow import UnitOfWork
from src.modules.content import CompletedWorkout, content
from src.modules.profile import profile_service
from src.modules.social import ChallengeDates, ChallengeType, social_service
from src.modules.time_keeper import TimeWindow, time_keeper

from .errors import CalendarFeedNotFound
from .models import CalendarFeed, CalendarFeedStatus
from .orm import CalendarFeedRow

FEED_PATH = "/api/v1/integrations/calendar/{token}.ics"
HISTORY = timedelta(days=90)  # how far back the feed reaches
MAX_CHALLENGES = 200  # the latest-starting challenges the person is in
PRODID = "-//UGOKI//Fasting and workouts//EN"
# Hours of the daily cycle spent fasting, for protocols with an eating window after the fast.
DAILY_FASTING_HOURS = {"16:8": 16, "18:6": 18, "20:4": 20, "OMAD": 23}


CHALLENGE_KINDS = {
    ChallengeType.FASTING_STREAK: "fasting streak",
    ChallengeType.WORKOUT_COUNT: "workouts",
    ChallengeType.TOTAL_XP: "XP",
    ChallengeType.CONSISTENCY: "active days",
}


def eating_window(protocol: str | None, fast_end: datetime) -> tuple[datetime, datetime] | None:
    """The eating window a daily protocol opens when its fast ends (None for 24 h+ and custom fasts)."""
    hours = DAILY_FASTING_HOURS.get(protocol or "")
    if hours is None:
        return None
    return fast_end, fast_end + timedelta(hours=24 - hours)


class CalendarFeeds:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self._key = uow.settings.identifier_hash_key.get_secret_value().encode()

    def _hash(self, token: str) -> str:
        return hmac.new(self._key, f"ical:{token}".encode(), hashlib.sha256).hexdigest()

    async def create(self, identity_id: uuid.UUID, *, base_url: str) -> CalendarFeed:
        """A new secret URL; any earlier one stops working."""
        token = secrets.token_urlsafe(32)
        now = self.uow.now()
        row = await self.session.get(CalendarFeedRow, identity_id, with_for_update=True)
        if row is None:
            try:
                async with self.session.begin_nested():
                    self.session.add(
                        CalendarFeedRow(identity_id=identity_id, token_hash=self._hash(token), created_at=now)
                    )
            except IntegrityError:  # made concurrently: replace that one
                row = await self.session.get(CalendarFeedRow, identity_id, with_for_update=True, populate_existing=True)
        if row is not None:
            row.token_hash, row.created_at, row.last_fetched_at = self._hash(token), now, None
        await self.session.flush()
        url = base_url.rstrip("/") + FEED_PATH.format(token=token)
        return CalendarFeed(url=url, webcal_url="webcal://" + url.split("://", 1)[1], created_at=now)

    async def status(self, identity_id: uuid.UUID) -> CalendarFeedStatus:
        row = await self.session.get(CalendarFeedRow, identity_id)
        if row is None:
            return CalendarFeedStatus(active=False, created_at=None, last_fetched_at=None)
        return CalendarFeedStatus(active=True, created_at=row.created_at, last_fetched_at=row.last_fetched_at)

    async def revoke(self, identity_id: uuid.UUID) -> None:
        result = await self.session.execute(delete(CalendarFeedRow).where(CalendarFeedRow.identity_id == identity_id))
        if not rowcount(result):
            raise CalendarFeedNotFound("There is no calendar feed to revoke")

    async def render(self, token: str) -> bytes:
        """The calendar behind a feed token; raises CalendarFeedNotFound for an unknown or revoked one."""
        row = await self.session.scalar(select(CalendarFeedRow).where(CalendarFeedRow.token_hash == self._hash(token)))
        if row is None:
            raise CalendarFeedNotFound("No such calendar feed")
        identity_id = row.identity_id
        now = self.uow.now()
        row.last_fetched_at = now
        zone = await profile_service(self.uow).zone_of(identity_id)
        fasts = await time_keeper(self.uow).completed_fasts_between(identity_id, now - HISTORY, now + timedelta(days=1))
        active = await time_keeper(self.uow).active_fast(identity_id)
        workouts = await content(self.uow).completed_workouts_between(
            identity_id, now - HISTORY, now + timedelta(days=1)
        )
        return build_calendar(
            zone=zone,
            now=now,
            completed_fasts=fasts,
            planned_fast=active,
            workouts=workouts,
            challenges=await social_service(self.uow).challenges_of(
                identity_id, ending_on_or_after=(now - HISTORY).astimezone(zone).date(), limit=MAX_CHALLENGES
            ),
        )

    async def export(self, identity_id: uuid.UUID) -> dict[str, Any]:
        status = await self.status(identity_id)
        return {"calendar_feed": status.model_dump(mode="json")}

    async def erase(self, identity_id: uuid.UUID) -> int:
        result = await self.session.execute(delete(CalendarFeedRow).where(CalendarFeedRow.identity_id == identity_id))
        return rowcount(result)


def _event(uid: str, summary: str, start: datetime, end: datetime, zone: ZoneInfo, now: datetime) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", now)
    event.add("summary", summary)
    event.add("dtstart", start.astimezone(zone))
    event.add("dtend", max(end, start + timedelta(minutes=1)).astimezone(zone))
    return event


def _clock(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%H:%M")


def build_calendar(
    *,
    zone: ZoneInfo,
    now: datetime,
    completed_fasts: Sequence[TimeWindow],
    planned_fast: TimeWindow | None,
    workouts: Sequence[CompletedWorkout],
    challenges: Sequence[ChallengeDates] = (),
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "UGOKI")
    calendar.add("x-wr-timezone", zone.key)
    for fast in completed_fasts:
        end = fast.end_time or fast.start_time
        protocol = fast.protocol or "custom"
        event = _event(f"fast-{fast.id}@ugoki", f"Fast ({protocol})", fast.start_time, end, zone, now)
        window = eating_window(fast.protocol, end)
        description = f"Protocol: {protocol}."
        if window is not None:
            description += f" Eating window: {_clock(window[0], zone)}–{_clock(window[1], zone)}."
        event.add("description", description)
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    if planned_fast is not None and planned_fast.scheduled_end is not None:
        protocol = planned_fast.protocol or "custom"
        end = planned_fast.scheduled_end
        event = _event(
            f"fast-{planned_fast.id}@ugoki", f"Planned fast ({protocol})", planned_fast.start_time, end, zone, now
        )
        window = eating_window(planned_fast.protocol, end)
        description = f"Protocol: {protocol}. Planned end: {_clock(end, zone)}."
        if window is not None:
            description += f" Eating window: {_clock(window[0], zone)}–{_clock(window[1], zone)}."
        event.add("description", description)
        event.add("status", "TENTATIVE")
        calendar.add_component(event)
        if window is not None:
            eating = _event(f"eating-{planned_fast.id}@ugoki", "Eating window", window[0], window[1], zone, now)
            eating.add("status", "TENTATIVE")
            calendar.add_component(eating)
    for workout in workouts:
        event = _event(
            f"workout-{workout.session_id}@ugoki",
            f"Workout: {workout.workout_name}",
            workout.started_at,
            workout.completed_at,
            zone,
            now,
        )
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    for challenge in challenges:
        # All-day, over the challenge's days (DTEND is exclusive); free time, not busy.
        event = Event()
        event.add("uid", f"challenge-{challenge.id}@ugoki")
        event.add("dtstamp", now)
        event.add("summary", f"Challenge: {challenge.name}")
        event.add("description", f"UGOKI challenge ({CHALLENGE_KINDS.get(challenge.challenge_type, 'challenge')}).")
        event.add("dtstart", challenge.start_date)
        event.add("dtend", challenge.end_date + timedelta(days=1))
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    calendar.add_missing_timezones()
    return bytes(calendar.to_ical())
