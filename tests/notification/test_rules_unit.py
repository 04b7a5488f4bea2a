"""Dense rules: quiet-hour windows (wrapping midnight, in the person's zone, DST), local times,
what may travel in a push body."""

from __future__ import annotations

from datetime import UTC, datetime, time

from src.modules.notification.rules import (
    PUSH_NEUTRAL_BODY,
    in_window,
    next_local,
    parse_workout_time,
    push_safe,
    quiet_until,
)


def test_a_window_that_wraps_midnight_covers_late_evening_and_early_morning() -> None:
    start, end = time(22, 0), time(7, 0)
    assert in_window(time(23, 30), start, end)
    assert in_window(time(0, 0), start, end)
    assert in_window(time(6, 59), start, end)
    assert not in_window(time(7, 0), start, end)
    assert not in_window(time(12, 0), start, end)
    assert in_window(time(22, 0), start, end)


def test_a_same_day_window_and_an_empty_window() -> None:
    assert in_window(time(13, 0), time(12, 0), time(14, 0))
    assert not in_window(time(14, 0), time(12, 0), time(14, 0))
    assert not in_window(time(12, 0), time(12, 0), time(12, 0))


def test_quiet_until_is_the_local_end_of_the_window() -> None:
    now = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)  # 23:00 in Tokyo
    assert quiet_until(now, "Asia/Tokyo", time(22, 0), time(7, 0)) == datetime(2026, 3, 10, 22, 0, tzinfo=UTC)
    assert quiet_until(now, "UTC", time(22, 0), time(7, 0)) is None


def test_next_local_time_across_a_dst_change() -> None:
    # Europe/Paris moves to summer time on 2026-03-29 at 02:00.
    now = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)  # 21:00 Paris
    assert next_local(now, time(20, 0), "Europe/Paris") == datetime(2026, 3, 29, 18, 0, tzinfo=UTC)
    assert next_local(now, time(2, 30), "Europe/Paris") == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_push_bodies_never_carry_health_values() -> None:
    assert push_safe("You logged 82.5 kg today") == PUSH_NEUTRAL_BODY
    assert push_safe("LDL 130 mg/dL is high") == PUSH_NEUTRAL_BODY
    assert push_safe("Resting heart rate 54 bpm") == PUSH_NEUTRAL_BODY
    assert (
        push_safe("You kept your fasting streak for 3 days: +25 XP")
        == "You kept your fasting streak for 3 days: +25 XP"
    )


def test_preferred_workout_time_forms() -> None:
    assert parse_workout_time("18:30") == time(18, 30)
    assert parse_workout_time("7:05 pm") == time(19, 5)
    assert parse_workout_time("morning") == time(7, 0)
    assert parse_workout_time("whenever") is None
    assert parse_workout_time("25:00") is None
