"""Unit tests of the feed wording: metadata is free-form JSON written by many producers (and
older versions of them), so odd values must give a sensible line or none, never an error."""

from __future__ import annotations

from typing import Any

import pytest

from src.modules.event_journal import EVENT_TYPES, EventType
from src.modules.event_journal.feed import DEFAULT_LINES, describe, title_and_icon

E = EventType


@pytest.mark.parametrize(
    ("event_type", "metadata", "expected"),
    [
        (E.FAST_COMPLETED, {"duration_hours": 16.4, "xp_earned": 50}, "16 hour fast · 50 XP earned"),
        (E.FAST_COMPLETED, {"duration_hours": "16.6"}, "17 hour fast"),
        (E.FAST_COMPLETED, {"duration_hours": 18, "xp_earned": "75"}, "18 hour fast · 75 XP earned"),
        (E.FAST_COMPLETED, {"duration_hours": 18, "xp_earned": 0}, "18 hour fast"),
        (E.FAST_COMPLETED, {"xp_earned": 50}, "50 XP earned"),
        (
            E.WORKOUT_COMPLETED,
            {"workout_name": "Tabata", "duration_minutes": "15", "xp_earned": 45.0},
            "Tabata · 15 min · 45 XP",
        ),
        (E.WORKOUT_COMPLETED, {"duration_minutes": 7.6}, "8 min"),
        (E.XP_EARNED, {"amount": "30", "reason": "admin grant"}, "+30 XP for admin grant"),
        (E.XP_EARNED, {"amount": 12.5}, "+12.5 XP"),
        (E.LEVEL_UP, {"new_level": "7"}, "Reached level 7"),
        (E.ACHIEVEMENT_UNLOCKED, {"name": "Week Warrior"}, "Week Warrior"),
        (E.WEIGHT_LOGGED, {"value": "72.50", "unit": "kg"}, "72.5 kg"),
        (E.WEIGHT_LOGGED, {"value": 72.5, "unit": None}, "72.5 kg"),
        (E.STREAK_INCREMENTED, {"streak_type": "app_usage", "count": 10}, "App Usage streak: 10 days"),
        (E.STREAK_RESET, {"streak_type": "logging", "previous_count": "4"}, "Logging streak reset after 4 days"),
        (E.STREAK_INCREMENTED, {"streak_type": "fasting", "count": 1}, "Fasting streak: 1 day"),
        (E.STREAK_RESET, {"streak_type": "fasting", "previous_count": 1}, "Fasting streak reset after 1 day"),
        (
            E.FAST_COMPLETED,
            {
                "duration_hours": 16.2,
                "xp_earned": 150,
                "base_xp": 50,
                "streak_bonus_xp": 25,
                "achievement_xp": 75,
                "achievements": [{"name": "Week Warrior", "xp": 75}],
            },
            "16 h fast: 50 XP, +25 XP streak bonus, +75 XP achievement 'Week Warrior'",
        ),
        (
            E.WORKOUT_COMPLETED,
            {
                "workout_name": "Tabata",
                "duration_minutes": 15,
                "xp_earned": 75,
                "base_xp": 45,
                "streak_bonus_xp": 0,
                "achievement_xp": 30,
                "achievements": [{"name": "First Workout", "xp": 30}],
            },
            "Tabata (15 min): 45 XP, +30 XP achievement 'First Workout'",
        ),
        (
            E.WORKOUT_COMPLETED,
            {"workout_name": "Tabata", "base_xp": 0, "credited": False, "credit_reason": "Too short to count"},
            "Tabata: no XP (Too short to count)",
        ),
        (
            E.FAST_LOGGED,
            {"duration_hours": 16, "xp_earned": 50, "base_xp": 50, "achievements": [{"name": 3}]},
            "16 h fast: 50 XP",
        ),
    ],
)
def test_describe_reads_numbers_given_as_numbers_or_numeric_strings(
    event_type: EventType, metadata: dict[str, Any], expected: str
) -> None:
    assert describe(event_type, metadata) == expected


@pytest.mark.parametrize("event_type", list(EventType))
@pytest.mark.parametrize(
    "metadata",
    [
        {},
        None,
        {"duration_hours": True, "xp_earned": True, "amount": False, "new_level": True, "value": False, "count": True},
        {"duration_hours": "sixteen", "duration_minutes": "", "amount": "lots", "new_level": "max", "value": "heavy"},
        {"duration_hours": None, "amount": None, "new_level": None, "value": None, "count": None, "name": None},
        {"duration_hours": [16], "amount": {"n": 5}, "new_level": [], "value": {}, "count": [3], "streak_type": 3},
        {"duration_hours": "nan", "xp_earned": "inf", "amount": "-inf", "new_level": "NaN", "value": "infinity"},
        {"duration_hours": float("nan"), "amount": float("inf"), "value": float("-inf"), "count": float("nan")},
        {"duration_hours": 1e308, "xp_earned": 1e308, "amount": 10**30, "new_level": 10**400, "count": -1e308},
    ],
    ids=["empty", "none", "bools", "words", "nulls", "containers", "nan-strings", "nan-floats", "huge"],
)
def test_describe_never_fails_on_odd_metadata(event_type: EventType, metadata: dict[str, Any]) -> None:
    result = describe(event_type, metadata)
    assert result is None or (isinstance(result, str) and result.strip())


@pytest.mark.parametrize(
    ("event_type", "metadata"),
    [
        (E.FAST_COMPLETED, {"duration_hours": True}),
        (E.FAST_COMPLETED, {"duration_hours": "sixteen"}),
        (E.FAST_COMPLETED, {"duration_hours": "nan"}),
        (E.XP_EARNED, {"amount": True, "reason": "cheat"}),
        (E.XP_EARNED, {"reason": "no amount"}),
        (E.LEVEL_UP, {"new_level": False}),
        (E.LEVEL_UP, {}),
        (E.WEIGHT_LOGGED, {"value": "heavy", "unit": "kg"}),
        (E.WEIGHT_LOGGED, {"value": float("inf")}),
        (E.STREAK_INCREMENTED, {"count": 3}),
        (E.STREAK_INCREMENTED, {"streak_type": "fasting"}),
        (E.STREAK_INCREMENTED, {"streak_type": "fasting", "count": True}),
        (E.ACHIEVEMENT_UNLOCKED, {"name": ""}),
        (E.WORKOUT_COMPLETED, {}),
    ],
)
def test_describe_falls_back_to_the_types_line_rather_than_something_wrong(
    event_type: EventType, metadata: dict[str, Any]
) -> None:
    assert describe(event_type, metadata) == DEFAULT_LINES[event_type]


@pytest.mark.parametrize(
    ("event_type", "metadata"),
    [
        (E.ACHIEVEMENT_UNLOCKED, {"name": True}),
        (E.ACHIEVEMENT_UNLOCKED, {"name": {"en": "First Fast"}}),
        (E.WORKOUT_COMPLETED, {"workout_name": True}),
        (E.STREAK_INCREMENTED, {"streak_type": True, "count": 3}),
    ],
)
def test_describe_does_not_print_non_text_values_as_names(event_type: EventType, metadata: dict[str, Any]) -> None:
    result = describe(event_type, metadata)
    assert result is None or ("True" not in result and "{" not in result)


def test_describe_ignores_a_non_text_reason_and_unit() -> None:
    assert describe(E.XP_EARNED, {"amount": 5, "reason": {"code": 1}}) == "+5 XP"
    assert describe(E.WEIGHT_LOGGED, {"value": 70, "unit": 5}) == "70 kg"


def test_describe_has_only_the_types_line_for_other_types() -> None:
    assert describe(E.APP_OPENED, {"duration_hours": 16}) == "You opened the app"
    assert describe("not_a_type", {"name": "x"}) is None


def test_title_and_icon_of_every_known_type_come_from_the_catalogue() -> None:
    for event_type, info in EVENT_TYPES.items():
        assert title_and_icon(str(event_type)) == (info.title, info.icon)


@pytest.mark.parametrize(
    ("event_type", "title"),
    [("legacy_event", "Legacy Event"), ("", ""), ("weird__name", "Weird  Name")],
)
def test_title_and_icon_of_an_unknown_type_is_derived_from_its_name(event_type: str, title: str) -> None:
    assert title_and_icon(event_type) == (title, "circle")


@pytest.mark.parametrize("event_type", list(EventType))
def test_every_event_type_has_a_line_even_without_metadata(event_type: EventType) -> None:
    line = describe(event_type, {})
    assert isinstance(line, str)
    assert line.strip()
