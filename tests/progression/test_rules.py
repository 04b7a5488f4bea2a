"""The progression rules as pure functions: XP bands, the level curve, titles, and streak days in
the person's time zone with the 04:00 day start."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from src.modules.progression.rules import (
    MAX_LEVEL,
    advance_streak,
    effective_count,
    fast_xp,
    level_for_xp,
    level_progress,
    repair_streak,
    streak_day,
    title_for_level,
    xp_for_level,
)
from tests.progression.helpers import utc

H = 3600


@pytest.mark.parametrize(
    ("seconds", "xp"),
    [
        (0, 0),
        (6 * H, 0),
        (12 * H - 1, 0),
        (12 * H, 25),
        (16 * H - 1, 25),
        (16 * H, 50),
        (18 * H - 1, 50),
        (18 * H, 75),
        (20 * H - 1, 75),
        (20 * H, 100),
        (24 * H - 1, 100),
        (24 * H, 150),
        (72 * H, 150),
    ],
)
def test_fast_xp_follows_the_hour_bands_with_exact_boundaries(seconds: int, xp: int) -> None:
    assert fast_xp(seconds) == xp


@pytest.mark.parametrize(("lvl", "total"), [(1, 0), (2, 100), (3, 300), (4, 600), (5, 1000), (10, 4500)])
def test_xp_needed_for_a_level_is_fifty_l_times_l_minus_one(lvl: int, total: int) -> None:
    assert xp_for_level(lvl) == total


@pytest.mark.parametrize(
    ("total", "lvl"),
    [
        (-50, 1),
        (0, 1),
        (99, 1),
        (100, 2),
        (299, 2),
        (300, 3),
        (999, 4),
        (1000, 5),
        (4499, 9),
        (4500, 10),
        (50 * 99 * 98 - 1, 98),
        (50 * 99 * 98, 99),
        (50 * 100 * 99, 100),
        (10**9, 100),
    ],
)
def test_level_is_reached_exactly_at_its_threshold_and_capped_at_100(total: int, lvl: int) -> None:
    assert level_for_xp(total) == lvl


def test_every_threshold_up_to_the_top_level_is_exact() -> None:
    for lvl in range(2, MAX_LEVEL + 1):
        threshold = xp_for_level(lvl)
        assert level_for_xp(threshold) == lvl
        assert level_for_xp(threshold - 1) == lvl - 1


@pytest.mark.parametrize(
    ("lvl", "title"),
    [
        (1, "Beginner"),
        (4, "Beginner"),
        (5, "Apprentice"),
        (9, "Apprentice"),
        (10, "Practitioner"),
        (15, "Dedicated"),
        (20, "Committed"),
        (25, "Warrior"),
        (29, "Warrior"),
        (30, "Champion"),
        (40, "Master"),
        (50, "Grandmaster"),
        (74, "Grandmaster"),
        (75, "Legend"),
        (99, "Legend"),
        (100, "Transcendent"),
    ],
)
def test_title_is_the_highest_threshold_reached(lvl: int, title: str) -> None:
    assert title_for_level(lvl) == title


def test_level_progress_reports_xp_into_the_level_and_the_cost_of_the_next_step() -> None:
    progress = level_progress(150)
    assert progress.level == 2
    assert progress.xp_into_level == 50
    assert progress.xp_for_next_level == 200  # 300 - 100
    assert progress.percent == 25.0
    assert progress.title == "Beginner"


def test_level_progress_at_zero_and_exactly_on_a_threshold_starts_the_level_empty() -> None:
    assert level_progress(0).level == 1
    assert level_progress(0).xp_into_level == 0
    assert level_progress(0).xp_for_next_level == 100
    at_five = level_progress(1000)
    assert (at_five.level, at_five.xp_into_level, at_five.xp_for_next_level, at_five.percent) == (5, 0, 500, 0.0)
    assert at_five.title == "Apprentice"


def test_level_progress_percent_is_rounded_to_one_decimal() -> None:
    assert level_progress(100 + 1).percent == 0.5  # 1 / 200
    assert level_progress(300 + 100).percent == 33.3  # 100 / 300


def test_level_progress_at_the_top_level_needs_nothing_more() -> None:
    top = level_progress(xp_for_level(MAX_LEVEL) + 12345)
    assert top.level == MAX_LEVEL
    assert top.xp_into_level == 12345
    assert top.xp_for_next_level == 0
    assert top.percent == 100.0
    assert top.title == "Transcendent"


def test_negative_total_reads_as_level_one_with_nothing_earned() -> None:
    progress = level_progress(-10)
    assert (progress.level, progress.xp_into_level, progress.percent) == (1, 0, 0.0)


# Streak days ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("instant", "zone", "day"),
    [
        # 01:30 on Tuesday 10 March local counts for Monday 9 March.
        (utc(3, 9, 12, 30), "Pacific/Auckland", date(2026, 3, 9)),  # 01:30 NZDT
        (utc(3, 10, 8, 30), "America/Los_Angeles", date(2026, 3, 9)),  # 01:30 PDT
        (utc(3, 10, 1, 30), "UTC", date(2026, 3, 9)),
        # 03:59:59 still belongs to the day before; 04:00 exactly starts the new day.
        (utc(3, 9, 14, 59, 59), "Pacific/Auckland", date(2026, 3, 9)),
        (utc(3, 9, 15, 0), "Pacific/Auckland", date(2026, 3, 10)),
        (utc(3, 10, 10, 59, 59), "America/Los_Angeles", date(2026, 3, 9)),
        (utc(3, 10, 11, 0), "America/Los_Angeles", date(2026, 3, 10)),
        (utc(3, 10, 3, 59, 59), "UTC", date(2026, 3, 9)),
        (utc(3, 10, 4, 0), "UTC", date(2026, 3, 10)),
        # Late evening is still the same day.
        (utc(3, 10, 23, 59), "UTC", date(2026, 3, 10)),
    ],
)
def test_streak_day_starts_at_four_in_the_morning_local_time(instant, zone: str, day: date) -> None:
    assert streak_day(instant, zone) == day


def test_the_same_instant_is_a_different_streak_day_in_auckland_and_los_angeles() -> None:
    instant = utc(3, 9, 20)  # 09:00 Tuesday in Auckland, 13:00 Monday in Los Angeles
    assert streak_day(instant, "Pacific/Auckland") == date(2026, 3, 10)
    assert streak_day(instant, "America/Los_Angeles") == date(2026, 3, 9)


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        # Sunday 8 March 2026: Los Angeles jumps from 02:00 PST to 03:00 PDT (10:00 UTC).
        (utc(3, 8, 10, 30), date(2026, 3, 7)),  # 03:30 PDT: still Saturday's streak day
        (utc(3, 8, 11, 0), date(2026, 3, 8)),  # 04:00 PDT: Sunday starts (03:00 if read as PST)
        (utc(3, 7, 11, 59), date(2026, 3, 6)),  # 03:59 PST the day before
        (utc(3, 7, 12, 0), date(2026, 3, 7)),  # 04:00 PST
    ],
)
def test_streak_day_follows_the_spring_forward_in_los_angeles(instant, day: date) -> None:
    assert streak_day(instant, "America/Los_Angeles") == day


@pytest.mark.parametrize(
    ("instant", "day"),
    [
        # Sunday 5 April 2026: Auckland falls back from 03:00 NZDT to 02:00 NZST (14:00 UTC).
        (utc(4, 4, 13, 30), date(2026, 4, 4)),  # 02:30 NZDT, first pass
        (utc(4, 4, 14, 30), date(2026, 4, 4)),  # 02:30 NZST, second pass
        (utc(4, 4, 15, 0), date(2026, 4, 4)),  # 03:00 NZST (04:00 if read as NZDT)
        (utc(4, 4, 15, 59), date(2026, 4, 4)),  # 03:59 NZST
        (utc(4, 4, 16, 0), date(2026, 4, 5)),  # 04:00 NZST: Sunday starts
    ],
)
def test_streak_day_follows_the_fall_back_in_auckland(instant, day: date) -> None:
    assert streak_day(instant, "Pacific/Auckland") == day


# Streak arithmetic ----------------------------------------------------------------------------

MON, TUE, WED, THU, FRI = (date(2026, 3, d) for d in (9, 10, 11, 12, 13))


def test_effective_count_keeps_a_streak_credited_today_or_yesterday() -> None:
    assert effective_count(4, WED, WED) == 4
    assert effective_count(4, TUE, WED) == 4


def test_effective_count_reads_a_broken_streak_as_zero() -> None:
    assert effective_count(4, MON, WED) == 0
    assert effective_count(0, None, WED) == 0


def test_first_credited_day_starts_a_run_of_one() -> None:
    step = advance_streak(0, 0, None, None, MON)
    assert (step.count, step.longest, step.last_day, step.started_on) == (1, 1, MON, MON)
    assert step.extended
    assert step.reset_from is None


def test_first_day_keeps_a_longer_longest_count() -> None:
    step = advance_streak(0, 9, None, None, MON)
    assert (step.count, step.longest) == (1, 9)


def test_same_day_again_changes_nothing() -> None:
    step = advance_streak(3, 5, TUE, MON, TUE)
    assert (step.count, step.longest, step.last_day, step.started_on) == (3, 5, TUE, MON)
    assert not step.extended
    assert step.reset_from is None


def test_next_day_extends_the_run_and_the_longest_count() -> None:
    step = advance_streak(3, 3, TUE, date(2026, 3, 8), WED)
    assert (step.count, step.longest, step.last_day, step.started_on) == (4, 4, WED, date(2026, 3, 8))
    assert step.extended
    assert step.reset_from is None


def test_next_day_below_the_longest_keeps_the_longest() -> None:
    step = advance_streak(2, 10, TUE, MON, WED)
    assert (step.count, step.longest) == (3, 10)


def test_a_gap_restarts_the_run_and_reports_the_broken_count() -> None:
    step = advance_streak(4, 4, MON, date(2026, 3, 6), THU)
    assert (step.count, step.longest, step.last_day, step.started_on) == (1, 4, THU, THU)
    assert step.extended
    assert step.reset_from == 4


def test_a_day_inside_the_current_run_changes_nothing() -> None:
    step = advance_streak(3, 3, THU, TUE, WED)
    assert (step.count, step.longest, step.last_day, step.started_on) == (3, 3, THU, TUE)
    assert not step.extended
    assert step.reset_from is None
    assert step.milestones == ()


def test_reaching_a_milestone_day_names_it_with_the_first_day_of_the_run() -> None:
    step = advance_streak(2, 2, TUE, MON, WED)
    assert (step.milestones, step.milestone_run) == ((3,), MON)
    assert advance_streak(3, 3, WED, MON, THU).milestones == ()


# Repairing a streak with a day logged after the fact (before the current run's first day) ------

SUN, SAT = date(2026, 3, 8), date(2026, 3, 7)


def test_the_missed_day_between_two_credited_days_joins_them_into_the_current_run() -> None:
    # Credited on Sunday and Tuesday (current run: Tuesday alone), then Monday is logged.
    step = repair_streak(1, 1, TUE, TUE, MON, {SUN, TUE})
    assert (step.count, step.longest, step.last_day, step.started_on) == (3, 3, TUE, SUN)
    assert step.extended
    assert step.reset_from is None
    assert (step.milestones, step.milestone_run) == ((3,), SUN)


def test_the_day_right_before_the_run_extends_it_backwards() -> None:
    step = repair_streak(2, 2, TUE, MON, SUN, {MON, TUE})
    assert (step.count, step.longest, step.started_on) == (3, 3, SUN)
    assert step.extended


def test_the_current_run_counts_as_credited_even_when_the_ledger_does_not_hold_its_days() -> None:
    step = repair_streak(2, 2, TUE, MON, SUN, set())  # e.g. days recorded by an admin
    assert (step.count, step.started_on) == (3, SUN)


def test_an_isolated_earlier_day_changes_nothing() -> None:
    step = repair_streak(2, 2, TUE, MON, date(2026, 3, 5), {MON, TUE})
    assert (step.count, step.longest, step.last_day, step.started_on) == (2, 2, TUE, MON)
    assert not step.extended
    assert step.milestones == ()


def test_a_day_that_was_already_credited_changes_nothing() -> None:
    step = repair_streak(1, 1, TUE, TUE, SUN, {SAT, SUN, TUE})
    assert (step.count, step.longest, step.started_on) == (1, 1, TUE)
    assert not step.extended
    assert step.milestones == ()


def test_bridging_two_earlier_runs_raises_the_longest_count_but_not_the_current_one() -> None:
    earlier = {date(2026, 3, d) for d in (1, 2, 3, 5, 6, 7, 8)}  # 3 days, a gap on the 4th, 4 days
    step = repair_streak(2, 4, date(2026, 3, 11), date(2026, 3, 10), date(2026, 3, 4), earlier)
    assert (step.count, step.longest, step.started_on) == (2, 8, date(2026, 3, 10))
    assert not step.extended
    # The rebuilt run of 8 days reached 7 for the first time; it starts on the 1st.
    assert (step.milestones, step.milestone_run) == ((7,), date(2026, 3, 1))


def test_milestones_either_joined_run_had_reached_are_not_paid_again() -> None:
    # 3 days before the gap (paid 3), 3 days after it (paid 3): together 7, only 7 is new.
    credited = {date(2026, 3, d) for d in (4, 5, 6, 8, 9, 10)}
    step = repair_streak(3, 3, date(2026, 3, 10), date(2026, 3, 8), date(2026, 3, 7), credited)
    assert (step.count, step.longest, step.started_on) == (7, 7, date(2026, 3, 4))
    assert step.milestones == (7,)
    # A long run before the gap had already reached 3 and 7: joining it with 2 days pays nothing.
    long_run = {date(2026, 2, 20) + timedelta(days=i) for i in range(8)}  # 20–27 February
    step = repair_streak(2, 8, date(2026, 3, 2), date(2026, 3, 1), date(2026, 2, 28), long_run)
    assert (step.count, step.longest) == (11, 11)
    assert step.milestones == ()


def test_days_after_the_last_credited_day_are_ignored() -> None:
    step = repair_streak(1, 1, TUE, TUE, MON, {SUN, TUE, WED})
    assert (step.count, step.last_day) == (3, TUE)
