"""The pure arithmetic behind the fasting timer: which stage a fast is in, and how long each
protocol fasts and eats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from src.modules.time_keeper.stages import (
    HOUR,
    PROTOCOL_HOURS,
    STAGES,
    instant_at,
    pause_timeline,
    protocol_hours,
    stage_index,
)

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


def _at(hours: float) -> datetime:
    return NOON + timedelta(hours=hours)


def _names() -> list[str]:
    return [stage.name for stage in STAGES]


def test_stages_run_in_order_without_gaps_from_zero_to_open_ended() -> None:
    assert _names() == ["anabolic", "catabolic", "fat_burning", "ketosis", "deep_ketosis"]
    assert STAGES[0].starts_at_hours == 0
    for current, following in pairwise(STAGES):
        assert current.ends_at_hours == following.starts_at_hours
    assert STAGES[-1].ends_at_hours is None


@pytest.mark.parametrize(
    ("elapsed_seconds", "expected"),
    [
        (0, "anabolic"),
        (4 * HOUR - 1, "anabolic"),
        (4 * HOUR, "catabolic"),
        (16 * HOUR - 1, "catabolic"),
        (16 * HOUR, "fat_burning"),
        (24 * HOUR - 1, "fat_burning"),
        (24 * HOUR, "ketosis"),
        (72 * HOUR - 1, "ketosis"),
        (72 * HOUR, "deep_ketosis"),
        (30 * 24 * HOUR, "deep_ketosis"),
    ],
)
def test_stage_index_changes_exactly_at_each_boundary(elapsed_seconds: int, expected: str) -> None:
    assert STAGES[stage_index(elapsed_seconds)].name == expected


@pytest.mark.parametrize(
    ("protocol", "hours"),
    [("16:8", (16, 8)), ("18:6", (18, 6)), ("20:4", (20, 4)), ("OMAD", (23, 1)), ("24h", (24, 8)), ("36h", (36, 8))],
)
def test_named_protocols_fast_and_eat_their_documented_hours(protocol: str, hours: tuple[int, int]) -> None:
    assert protocol_hours(protocol, None) == hours


def test_every_named_protocol_is_known() -> None:
    assert set(PROTOCOL_HOURS) == {"16:8", "18:6", "20:4", "OMAD", "24h", "36h"}


@pytest.mark.parametrize(
    ("custom_hours", "hours"),
    [(1, (1, 23)), (12, (12, 12)), (20, (20, 4)), (23, (23, 1)), (24, (24, 8)), (48, (48, 8)), (72, (72, 8))],
)
def test_custom_fasts_under_a_day_leave_the_rest_of_the_day_for_eating(
    custom_hours: int, hours: tuple[int, int]
) -> None:
    assert protocol_hours("custom", custom_hours) == hours


def test_custom_hours_are_ignored_by_a_named_protocol() -> None:
    assert protocol_hours("18:6", 40) == (18, 6)


def test_unknown_protocol_raises_key_error() -> None:
    with pytest.raises(KeyError):
        protocol_hours("15:9", None)


def test_instant_without_pauses_is_start_plus_fasted_time() -> None:
    assert instant_at(NOON, [], 0) == NOON
    assert instant_at(NOON, [], 4 * HOUR) == _at(4)


def test_a_pause_after_the_mark_does_not_move_it() -> None:
    # Runs 5 h, pauses 2 h, resumes: 4 fasted hours were reached at 16:00, before the pause.
    pauses = [(_at(5), _at(7))]

    assert instant_at(NOON, pauses, 4 * HOUR) == _at(4)


def test_a_pause_before_the_mark_moves_it_by_the_pause() -> None:
    pauses = [(_at(5), _at(7))]

    assert instant_at(NOON, pauses, 16 * HOUR) == _at(18)


def test_several_pauses_each_count_only_when_they_come_first() -> None:
    pauses = [(_at(1), _at(2)), (_at(5), _at(8)), (_at(20), _at(21))]

    assert instant_at(NOON, pauses, 3 * HOUR) == _at(4)
    assert instant_at(NOON, pauses, 4 * HOUR) == _at(5)
    assert instant_at(NOON, pauses, 4 * HOUR + 1) == _at(8) + timedelta(seconds=1)
    assert instant_at(NOON, pauses, 16 * HOUR) == _at(20)
    assert instant_at(NOON, pauses, 17 * HOUR) == _at(22)


def test_a_mark_beyond_a_pause_still_in_progress_is_unknown() -> None:
    pauses = [(_at(5), None)]

    assert instant_at(NOON, pauses, 4 * HOUR) == _at(4)
    assert instant_at(NOON, pauses, 5 * HOUR) == _at(5)
    assert instant_at(NOON, pauses, 5 * HOUR + 1) is None


def test_timeline_is_the_logged_pauses_then_the_one_in_progress() -> None:
    logged = [(_at(1), _at(2)), (_at(5), _at(6))]

    assert pause_timeline(NOON, 2 * HOUR, logged, _at(9)) == [*logged, (_at(9), None)]
    assert pause_timeline(NOON, 2 * HOUR, logged, None) == logged


def test_pauses_known_only_by_their_total_are_placed_at_the_start() -> None:
    # A row from before pauses were logged: 1 h paused in total, 30 min of it logged since.
    logged = [(_at(6), _at(6.5))]

    timeline = pause_timeline(NOON, HOUR, logged, None)

    assert timeline == [(NOON, _at(0.5)), *logged]
    assert instant_at(NOON, timeline, 4 * HOUR) == _at(4.5)
