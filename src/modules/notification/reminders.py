"""Reminders: queued for when they fall due (outbox `available_at`) and checked again then, so a
reminder that is no longer true (the fast ended first, the streak was kept, the setting changed)
is dropped instead of sent.

- fast ends in 30 minutes / fast goal reached: queued whenever a running fast's plan is set or
  moves (start, resume, start correction, extension); a reminder whose fast is no longer running
  with that planned end is void;
- streak at risk: 20:00 local on the day after an activity, sent only if that streak (≥ 2 days)
  has no activity yet that day;
- fast completed (announced when it just happened, not for a past fast logged afterwards);
- workout reminder at the profile's preferred workout time and daily motivation at
  `daily_motivation_time`: one queued occurrence each, re-planned when settings change and after
  each occurrence.

A reminder that falls in the person's quiet hours is dropped, not held: it would be wrong later.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from src.core.contracts import FastCompleted, FastPlanChanged, WeightLogged, WorkoutCompleted
from src.core.outbox import Delivery
from src.core.persistence import insert_ignore
from src.core.uow import UnitOfWork
from src.modules.profile import profile_service
from src.modules.progression import progression
from src.modules.time_keeper import WindowState, time_keeper

from .delivery import intake
from .interface import NOTIFY_TOPIC
from .models import NotificationCategory, SendPayload
from .orm import PreferencesRow
from .rules import local_instant, next_local, parse_workout_time

REMINDER_TOPIC = "notification.reminder"
FAST_ENDING_LEAD = timedelta(minutes=30)
FRESH_COMPLETION = timedelta(minutes=10)
STREAK_RISK_AT = time(20, 0)
DAY_START_HOUR = 4  # a streak day starts at 04:00 local

MOTIVATION = (
    "Small steps every day add up. You've got this!",
    "Consistency beats intensity. Show up today.",
    "Your future self will thank you for today's effort.",
    "Progress, not perfection.",
    "One good choice at a time.",
    "Rest, refuel, repeat: every day counts.",
    "You are stronger than you think.",
)


def _queue(uow: UnitOfWork, identity_id: uuid.UUID, at: datetime, **payload: Any) -> None:
    uow.enqueue(REMINDER_TOPIC, {"identity_id": str(identity_id), **payload}, identity_id=identity_id, available_at=at)


# Scheduling (domain events, in the publisher's transaction) -------------------------------


async def on_fast_plan(uow: UnitOfWork, event: FastPlanChanged) -> None:
    if event.state != WindowState.ACTIVE or event.scheduled_end is None:
        return  # paused: the end is unknown until it resumes
    now = uow.now()
    end = event.scheduled_end.isoformat()
    ending = event.scheduled_end - FAST_ENDING_LEAD
    if ending > now:
        _queue(uow, event.identity_id, ending, kind="fast_ending", window_id=str(event.window_id), scheduled_end=end)
    if event.scheduled_end > now:
        _queue(
            uow,
            event.identity_id,
            event.scheduled_end,
            kind="fast_goal",
            window_id=str(event.window_id),
            scheduled_end=end,
        )


def _instant(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _streak_day(instant: datetime, zone: str) -> date:
    local = instant.astimezone(ZoneInfo(zone))
    return (local.replace(tzinfo=None) - timedelta(hours=DAY_START_HOUR)).date()


async def _streak_activity(uow: UnitOfWork, identity_id: uuid.UUID, streak_type: str) -> None:
    zone = await profile_service(uow).timezone_of(identity_id)
    tomorrow = _streak_day(uow.now(), zone) + timedelta(days=1)
    at = local_instant(tomorrow, STREAK_RISK_AT, ZoneInfo(zone))
    _queue(uow, identity_id, at, kind="streak_at_risk", streak_type=streak_type, day=tomorrow.isoformat())


async def on_fast_completed(uow: UnitOfWork, event: FastCompleted) -> None:
    await _streak_activity(uow, event.identity_id, "fasting")
    if uow.now() - event.ended_at > FRESH_COMPLETION:
        return  # a past fast logged afterwards: nothing to announce
    hours = event.fasted_seconds // 3600
    minutes = event.fasted_seconds % 3600 // 60
    length = f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
    goal = event.target_seconds is not None and event.fasted_seconds >= event.target_seconds
    payload = SendPayload(
        identity_id=event.identity_id,
        category=NotificationCategory.FASTING,
        title="Fast complete" if goal else "Fast ended",
        body=f"You fasted for {length}." + (" Goal reached!" if goal else ""),
        data={"window_id": str(event.window_id)},
        celebration=True,
        dedupe_key=f"fast_completed:{event.window_id}",
    )
    uow.enqueue(NOTIFY_TOPIC, payload.model_dump(mode="json"), identity_id=event.identity_id)


async def on_workout_completed(uow: UnitOfWork, event: WorkoutCompleted) -> None:
    if event.eligible:
        await _streak_activity(uow, event.identity_id, "workout")


async def on_weight_logged(uow: UnitOfWork, event: WeightLogged) -> None:
    await _streak_activity(uow, event.identity_id, "logging")


async def _daily_times(uow: UnitOfWork, identity_id: uuid.UUID, prefs: PreferencesRow | None) -> dict[str, time]:
    times: dict[str, time] = {}
    if prefs is not None and prefs.daily_motivation_time is not None:
        times["daily_motivation"] = prefs.daily_motivation_time
    profile = await profile_service(uow).preferences_of(identity_id)
    workout = parse_workout_time(profile.preferred_workout_time)
    if workout is not None and profile.workout_reminder_enabled:
        times["workout"] = workout
    return times


async def plan_daily_reminders(uow: UnitOfWork, identity_id: uuid.UUID) -> None:
    """Queue the next occurrence of each daily reminder unless exactly that one is queued already."""
    prefs = (
        await uow.session.execute(
            select(PreferencesRow).where(PreferencesRow.identity_id == identity_id).with_for_update()
        )
    ).scalar_one_or_none()
    times = await _daily_times(uow, identity_id, prefs)
    if not times and (prefs is None or not prefs.reminder_plan):
        return
    if prefs is None:  # the plan is kept with the preferences (saved with their defaults)
        values = {"identity_id": identity_id, "reminder_plan": {}, "updated_at": uow.now()}
        await insert_ignore(uow.session, PreferencesRow, values)
        prefs = (
            await uow.session.execute(
                select(PreferencesRow).where(PreferencesRow.identity_id == identity_id).with_for_update()
            )
        ).scalar_one()
    zone = await profile_service(uow).timezone_of(identity_id)
    plan: dict[str, str] = {}
    now = uow.now()
    for kind, at in times.items():
        due = next_local(now, at, zone).isoformat()
        plan[kind] = due
        if (prefs.reminder_plan or {}).get(kind) != due:
            _queue(uow, identity_id, datetime.fromisoformat(due), kind=kind, due=due)
    prefs.reminder_plan = plan
    await uow.session.flush()


# Firing (outbox, after the reminder falls due) ---------------------------------------------


async def handle_reminder(uow: UnitOfWork, message: Delivery) -> None:
    payload = message.payload
    try:
        identity_id = uuid.UUID(str(payload["identity_id"]))
        kind = str(payload["kind"])
    except (KeyError, ValueError):
        return
    if kind in ("fast_ending", "fast_goal"):
        await _fast_reminder(uow, identity_id, kind, payload)
    elif kind == "streak_at_risk":
        await _streak_reminder(uow, identity_id, payload)
    elif kind in ("daily_motivation", "workout"):
        await _daily_reminder(uow, identity_id, kind, payload)


async def _fast_reminder(uow: UnitOfWork, identity_id: uuid.UUID, kind: str, payload: dict[str, Any]) -> None:
    fast = await time_keeper(uow).active_fast(identity_id)
    if (
        fast is None
        or str(fast.id) != payload.get("window_id")
        or fast.state != WindowState.ACTIVE
        or fast.scheduled_end is None
        or fast.scheduled_end != _instant(payload.get("scheduled_end"))
    ):
        return  # the fast ended, is paused, or its plan moved (a newer reminder is queued)
    if kind == "fast_ending":
        title, body = "30 minutes to go", "Your fast ends in 30 minutes. Keep going!"
    else:
        title, body = "Fast goal reached", "You reached your fasting goal. End your fast when you are ready."
    await intake(
        uow,
        SendPayload(
            identity_id=identity_id,
            category=NotificationCategory.FASTING,
            title=title,
            body=body,
            data={"window_id": str(fast.id), "reminder": kind},
            dedupe_key=f"{kind}:{fast.id}:{payload['scheduled_end']}",
        ),
        source_key=f"{kind}:{fast.id}:{payload['scheduled_end']}",
        queued_at=None,
        hold=False,  # a reminder means nothing after the quiet hours
    )


async def _streak_reminder(uow: UnitOfWork, identity_id: uuid.UUID, payload: dict[str, Any]) -> None:
    streak_type = str(payload.get("streak_type"))
    try:
        day = date.fromisoformat(str(payload.get("day")))
    except ValueError:
        return
    zone = await profile_service(uow).timezone_of(identity_id)
    if _streak_day(uow.now(), zone) != day:
        return  # delivered too late (the worker was down): the day is over
    streak = next(
        (s for s in await progression(uow).streaks(identity_id, zone=zone) if s.streak_type == streak_type), None
    )
    if streak is None or streak.current_count < 2 or streak.active_today:
        return
    key = f"streak_at_risk:{streak_type}:{day.isoformat()}"
    await intake(
        uow,
        SendPayload(
            identity_id=identity_id,
            category=NotificationCategory.STREAK,
            title="Keep your streak alive",
            body=f"Your {streak.current_count}-day {streak_type} streak ends tonight unless you keep it going.",
            data={"streak_type": streak_type, "reminder": "streak_at_risk"},
            dedupe_key=key,
        ),
        source_key=key,
        queued_at=None,
        hold=False,  # a reminder means nothing after the quiet hours
    )


async def _daily_reminder(uow: UnitOfWork, identity_id: uuid.UUID, kind: str, payload: dict[str, Any]) -> None:
    prefs = (
        await uow.session.execute(
            select(PreferencesRow).where(PreferencesRow.identity_id == identity_id).with_for_update()
        )
    ).scalar_one_or_none()
    due = str(payload.get("due"))
    if prefs is None or (prefs.reminder_plan or {}).get(kind) != due:
        return  # superseded by a newer plan, or switched off
    key = f"{kind}:{due}"
    if kind == "daily_motivation":
        day = datetime.fromisoformat(due).toordinal()
        send = SendPayload(
            identity_id=identity_id,
            category=NotificationCategory.MOTIVATIONAL,
            title="Daily motivation",
            body=MOTIVATION[day % len(MOTIVATION)],
            data={"reminder": kind},
            dedupe_key=key,
        )
    else:
        send = SendPayload(
            identity_id=identity_id,
            category=NotificationCategory.WORKOUT,
            title="Time to move",
            body="Your workout time is here. A short session counts!",
            data={"reminder": kind},
            dedupe_key=key,
        )
    # The next occurrence first (so it is planned even if this one is dropped by a switch).
    prefs.reminder_plan = {k: v for k, v in (prefs.reminder_plan or {}).items() if k != kind}
    await uow.session.flush()
    await plan_daily_reminders(uow, identity_id)
    await intake(uow, send, source_key=key, queued_at=None, hold=False)
