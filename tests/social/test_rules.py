"""Unit tests of the social rules: activity days, periods, streak lapses, challenge progress, ranks."""

from __future__ import annotations

from datetime import UTC, date, datetime

from src.modules.social.models import ChallengeType, LeaderboardPeriod
from src.modules.social.rules import (
    DayFacts,
    activity_day,
    challenge_closes_at,
    challenge_progress,
    competition_ranks,
    longest_run,
    period_start,
    streak_alive_until,
)


def test_activity_day_starts_at_four_in_the_persons_zone() -> None:
    assert activity_day(datetime(2026, 3, 10, 1, 30, tzinfo=UTC), "UTC") == date(2026, 3, 9)
    assert activity_day(datetime(2026, 3, 10, 4, 0, tzinfo=UTC), "UTC") == date(2026, 3, 10)
    # 23:00 UTC is 08:00 next day in Tokyo.
    assert activity_day(datetime(2026, 3, 10, 23, 0, tzinfo=UTC), "Asia/Tokyo") == date(2026, 3, 11)


def test_periods_start_on_monday_and_the_first_of_the_month() -> None:
    sunday = date(2026, 3, 15)
    assert period_start(LeaderboardPeriod.WEEK, sunday) == date(2026, 3, 9)
    assert period_start(LeaderboardPeriod.WEEK, date(2026, 3, 16)) == date(2026, 3, 16)
    assert period_start(LeaderboardPeriod.MONTH, sunday) == date(2026, 3, 1)
    assert period_start(LeaderboardPeriod.ALL_TIME, sunday) == date(1970, 1, 1)


def test_a_streak_lapses_when_the_day_after_tomorrow_begins_locally() -> None:
    assert streak_alive_until(date(2026, 3, 10), "UTC") == datetime(2026, 3, 12, 4, tzinfo=UTC)
    assert streak_alive_until(date(2026, 3, 10), "America/New_York") == datetime(2026, 3, 12, 8, tzinfo=UTC)
    assert streak_alive_until(None, "UTC") is None


def test_a_challenge_closes_once_its_last_day_is_over_everywhere() -> None:
    assert challenge_closes_at(date(2026, 3, 20)) == datetime(2026, 3, 21, 16, tzinfo=UTC)


def test_longest_run_of_consecutive_days() -> None:
    days = [date(2026, 3, d) for d in (1, 2, 3, 5, 6, 8, 9, 10, 11)]
    assert longest_run(days) == 4
    assert longest_run([]) == 0
    assert longest_run([date(2026, 3, 1), date(2026, 3, 1)]) == 1


def test_progress_by_challenge_type() -> None:
    facts = [
        DayFacts(date(2026, 3, 1), fasts=1, xp=50),
        DayFacts(date(2026, 3, 2), fasts=1, workouts=2, xp=110),
        DayFacts(date(2026, 3, 4), weigh_ins=1, xp=10),
        DayFacts(date(2026, 3, 5), xp=50),  # an achievement alone is not an active day
    ]
    assert challenge_progress(ChallengeType.FASTING_STREAK, facts) == 2
    assert challenge_progress(ChallengeType.WORKOUT_COUNT, facts) == 2
    assert challenge_progress(ChallengeType.TOTAL_XP, facts) == 220
    assert challenge_progress(ChallengeType.CONSISTENCY, facts) == 3


def test_competition_ranks_share_ranks_on_ties() -> None:
    assert competition_ranks([10, 8, 8, 5, 5, 5, 1]) == [1, 2, 2, 4, 4, 4, 7]
    assert competition_ranks([]) == []
