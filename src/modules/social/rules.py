"""Pure rules of the social module: days and periods in a person's zone, challenge progress from
daily facts, rankings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .models import ChallengeType, LeaderboardPeriod

DAY_START_HOUR = 4  # an activity day runs from 04:00 to 04:00 local time, as streak days do
# A fast counts toward fasting challenges when it is long enough to count for a streak.
MIN_STREAK_FAST_SECONDS = 12 * 3600
ALL_TIME_START = date(1970, 1, 1)
# The period keys stored per person: week (by its Monday), month (by its first day), all time.
PERIOD_KEYS = {LeaderboardPeriod.WEEK: "week", LeaderboardPeriod.MONTH: "month", LeaderboardPeriod.ALL_TIME: "all"}
# 04:00 of the day after the end date at UTC-12, the last zone where that day ends.
CLOSE_AFTER_END = timedelta(days=1, hours=DAY_START_HOUR + 12)


def activity_day(instant: datetime, zone: str) -> date:
    """The person's activity day of an instant (the 04:00 day start)."""
    return (instant.astimezone(ZoneInfo(zone)) - timedelta(hours=DAY_START_HOUR)).date()


def local_date(instant: datetime, zone: str) -> date:
    return instant.astimezone(ZoneInfo(zone)).date()


def period_start(period: LeaderboardPeriod, day: date) -> date:
    if period is LeaderboardPeriod.WEEK:
        return day - timedelta(days=day.weekday())
    if period is LeaderboardPeriod.MONTH:
        return day.replace(day=1)
    return ALL_TIME_START


def period_keys(day: date) -> list[tuple[str, date]]:
    """Every stored (period, start) an XP credit of `day` adds to."""
    return [(PERIOD_KEYS[p], period_start(p, day)) for p in LeaderboardPeriod]


def streak_alive_until(last_day: date | None, zone: str) -> datetime | None:
    """A streak reads as 0 once its last credited day is before yesterday: it lapses when the
    activity day two days after `last_day` begins (04:00 local)."""
    if last_day is None:
        return None
    lapse = datetime.combine(last_day + timedelta(days=2), time(DAY_START_HOUR), ZoneInfo(zone))
    return lapse.astimezone(UTC)


def challenge_closes_at(end_date: date) -> datetime:
    """When the last day of a challenge is over in every time zone."""
    return datetime.combine(end_date, time(0), UTC) + CLOSE_AFTER_END


@dataclass(frozen=True)
class DayFacts:
    day: date
    fasts: int = 0
    workouts: int = 0
    weigh_ins: int = 0
    xp: int = 0

    @property
    def active(self) -> bool:
        """A completed fast, a credited workout or a weigh-in (XP alone, e.g. an achievement, is not)."""
        return bool(self.fasts or self.workouts or self.weigh_ins)


def longest_run(days: Iterable[date]) -> int:
    ordered = sorted(set(days))
    best = run = 0
    previous: date | None = None
    for day in ordered:
        run = run + 1 if previous is not None and day - previous == timedelta(days=1) else 1
        best = max(best, run)
        previous = day
    return best


def challenge_progress(kind: ChallengeType, facts: Iterable[DayFacts]) -> float:
    """Progress from the facts of the challenge's own days only (the caller filters the dates):
    `fasting_streak` the longest run of consecutive days with a completed fast, `workout_count`
    completed workout sessions, `total_xp` XP earned, `consistency` distinct days with a fast, a
    workout or a weigh-in."""
    rows = list(facts)
    if kind is ChallengeType.FASTING_STREAK:
        return float(longest_run(f.day for f in rows if f.fasts > 0))
    if kind is ChallengeType.WORKOUT_COUNT:
        return float(sum(f.workouts for f in rows))
    if kind is ChallengeType.TOTAL_XP:
        return float(max(0, sum(f.xp for f in rows)))
    return float(sum(1 for f in rows if f.active))


def competition_ranks(values: Sequence[float]) -> list[int]:
    """Standard competition ranking of values sorted best first: equal values share a rank and
    the next rank skips (1, 2, 2, 4)."""
    ranks: list[int] = []
    for index, value in enumerate(values):
        if index and value == values[index - 1]:
            ranks.append(ranks[-1])
        else:
            ranks.append(index + 1)
    return ranks
