"""Progression rules as pure functions: XP bands, the level curve and titles, streak days in the
person's time zone with the 04:00 day start."""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

HOUR = 3600
# (minimum fasted hours, XP), highest first. Under 12 hours: nothing, and no streak credit.
FAST_XP_BANDS: tuple[tuple[int, int], ...] = ((24, 150), (20, 100), (18, 75), (16, 50), (12, 25))
MIN_CREDITED_FAST_HOURS = 12
WORKOUT_XP = {"beginner": 30, "intermediate": 45, "advanced": 60}
WEIGHT_LOG_XP = 10
STREAK_MILESTONES: dict[int, int] = {3: 25, 7: 50, 14: 100, 30: 250, 60: 500, 90: 1000, 180: 2500, 365: 5000}
MAX_LEVEL = 100
TITLES: tuple[tuple[int, str], ...] = (
    (100, "Transcendent"),
    (75, "Legend"),
    (50, "Grandmaster"),
    (40, "Master"),
    (30, "Champion"),
    (25, "Warrior"),
    (20, "Committed"),
    (15, "Dedicated"),
    (10, "Practitioner"),
    (5, "Apprentice"),
    (1, "Beginner"),
)
DAY_START_HOUR = 4  # a streak day runs from 04:00 to 04:00 local time


def fast_xp(fasted_seconds: int) -> int:
    hours = fasted_seconds / HOUR
    for minimum, xp in FAST_XP_BANDS:
        if hours >= minimum:
            return xp
    return 0


def workout_xp(difficulty: str) -> int:
    return WORKOUT_XP.get(difficulty, WORKOUT_XP["beginner"])


def xp_for_level(level: int) -> int:
    """Total XP needed to reach `level`: 50·L·(L−1) (L2 = 100, L3 = 300, L5 = 1 000, L10 = 4 500)."""
    return 50 * level * (level - 1)


def level_for_xp(total_xp: int) -> int:
    if total_xp <= 0:
        return 1
    level = int((1 + math.isqrt(1 + total_xp * 4 // 50)) // 2)
    while level < MAX_LEVEL and xp_for_level(level + 1) <= total_xp:
        level += 1
    while level > 1 and xp_for_level(level) > total_xp:
        level -= 1
    return min(level, MAX_LEVEL)


def title_for_level(level: int) -> str:
    for minimum, title in TITLES:
        if level >= minimum:
            return title
    return TITLES[-1][1]


@dataclass(frozen=True)
class LevelProgress:
    level: int
    xp_into_level: int
    xp_for_next_level: int
    percent: float
    title: str


def level_progress(total_xp: int) -> LevelProgress:
    total = max(0, total_xp)
    level = level_for_xp(total)
    if level >= MAX_LEVEL:
        return LevelProgress(MAX_LEVEL, total - xp_for_level(MAX_LEVEL), 0, 100.0, title_for_level(MAX_LEVEL))
    floor = xp_for_level(level)
    step = xp_for_level(level + 1) - floor
    into = total - floor
    return LevelProgress(level, into, step, round(into * 100 / step, 1), title_for_level(level))


def streak_day(instant: datetime, timezone: str) -> date:
    """The streak day an instant belongs to: local wall time minus four hours (01:30 on Tuesday
    counts for Monday), in the person's time zone, DST included."""
    local = instant.astimezone(ZoneInfo(timezone))
    return (local.replace(tzinfo=None) - timedelta(hours=DAY_START_HOUR)).date()


def effective_count(current: int, last_day: date | None, today: date) -> int:
    """A streak whose last credited day is older than yesterday reads as 0."""
    if last_day is None or last_day < today - timedelta(days=1):
        return 0
    return current


@dataclass(frozen=True)
class StreakStep:
    count: int
    longest: int
    last_day: date
    started_on: date
    extended: bool
    reset_from: int | None  # the count of the run that broke, when this activity restarted it
    milestones: tuple[int, ...] = ()  # milestone counts this activity made a run reach
    milestone_run: date | None = None  # first day of the run those milestones belong to


def _reached(count: int) -> tuple[int, ...]:
    return (count,) if count in STREAK_MILESTONES else ()


def advance_streak(current: int, longest: int, last_day: date | None, started_on: date | None, day: date) -> StreakStep:
    """One credited day, on or after the current run's first day. A day before the run (a
    back-filled activity) needs the person's credited days: see `repair_streak`."""
    if last_day is None or started_on is None:
        return StreakStep(1, max(longest, 1), day, day, True, None, _reached(1), day)
    if day <= last_day:  # same day again, or a day inside the current run
        return StreakStep(current, longest, last_day, started_on, False, None)
    if day == last_day + timedelta(days=1):
        count = current + 1
        return StreakStep(count, max(longest, count), day, started_on, True, None, _reached(count), started_on)
    return StreakStep(1, max(longest, 1), day, day, True, current if current > 0 else None, _reached(1), day)


def repair_streak(
    current: int,
    longest: int,
    last_day: date,
    started_on: date,
    day: date,
    credited_days: Collection[date],
) -> StreakStep:
    """A credited day before the current run's first day (a fast logged after the fact).

    `credited_days` are the days that already had credited activity of this streak type (the
    current run's days count as credited whatever the list says). The run the day belongs to is
    rebuilt: it joins the days right before and after it, and when it reaches the current run the
    current run grows backwards (new first day, new count). `longest` takes the rebuilt run's
    length. A day that was already credited changes nothing.

    Milestones are paid once per run: the rebuilt run pays the milestones it reaches that neither
    of the runs it joined had reached on its own (those were paid when they happened)."""
    known = {d for d in credited_days if d <= last_day}
    if day >= started_on or day in known:
        return StreakStep(current, longest, last_day, started_on, False, None)
    known.update(started_on + timedelta(days=i) for i in range((last_day - started_on).days + 1))
    before = 0
    while day - timedelta(days=before + 1) in known:
        before += 1
    after = 0
    while day + timedelta(days=after + 1) in known:
        after += 1
    length = before + 1 + after
    first = day - timedelta(days=before)
    milestones = tuple(m for m in sorted(STREAK_MILESTONES) if max(before, after) < m <= length)
    if day + timedelta(days=after) == last_day:  # reaches the current run
        return StreakStep(length, max(longest, length), last_day, first, True, None, milestones, first)
    return StreakStep(current, max(longest, length), last_day, started_on, False, None, milestones, first)


# A completed, credited fast counts for the streak day it ended in and for every other streak
# day (04:00–04:00 local) in which it ran at least this long (most of that day).
FAST_DAY_MIN_HOURS = 12
# Fasting XP one streak day can earn (what one real fast of 24 h or more earns): fasts ending on
# the same day never add up to more than one long fast would.
DAILY_FAST_XP_CAP = FAST_XP_BANDS[0][1]


def day_start(day: date, timezone: str) -> datetime:
    """When a streak day begins: 04:00 local time on that date."""
    return datetime.combine(day, time(DAY_START_HOUR), ZoneInfo(timezone))


def fast_streak_days(started_at: datetime, ended_at: datetime, timezone: str) -> list[date]:
    """The streak days a credited fast counts for, oldest first: the day it ended, and every day
    in which it ran at least `FAST_DAY_MIN_HOURS` hours (a Saturday 09:00 → Sunday 05:00 fast
    counts for Saturday and Sunday)."""
    last = streak_day(ended_at, timezone)
    days = {last}
    day = streak_day(started_at, timezone)
    while day < last:
        start = max(started_at, day_start(day, timezone))
        end = min(ended_at, day_start(day + timedelta(days=1), timezone))
        if (end - start).total_seconds() >= FAST_DAY_MIN_HOURS * HOUR:
            days.add(day)
        day += timedelta(days=1)
    return sorted(days)
