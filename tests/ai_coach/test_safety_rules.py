"""The safety rules, case by case (tests/ai_coach/safety_cases.json): every emergency and
self-harm phrasing is caught (recall 100 %), medical questions are redirected, and benign
messages whose words merely resemble trigger terms pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from src.modules.ai_coach.safety import (
    EU,
    INTERNATIONAL,
    UK,
    US,
    SafetyCategory,
    check_message,
    crisis_lines,
    needs_disclaimer,
)

CASES = json.loads((Path(__file__).parent / "safety_cases.json").read_text(encoding="utf-8"))


def test_the_case_lists_are_large_enough() -> None:
    assert len(CASES["emergency"]) >= 30
    assert len(CASES["medical"]) >= 15
    assert len(CASES["benign"]) >= 40


@pytest.mark.parametrize("message", CASES["emergency"])
def test_emergency_and_self_harm_are_caught(message: str) -> None:
    verdict = check_message(message)
    assert verdict is not None, message
    assert verdict.category is SafetyCategory.EMERGENCY, (message, verdict)


@pytest.mark.parametrize("message", CASES["medical"])
def test_medical_questions_are_redirected(message: str) -> None:
    verdict = check_message(message)
    assert verdict is not None, message
    assert verdict.category is SafetyCategory.MEDICAL, (message, verdict)


@pytest.mark.parametrize("message", CASES["benign"])
def test_benign_look_alikes_are_not_blocked(message: str) -> None:
    assert check_message(message) is None, (message, check_message(message))


def test_emergency_recall_is_complete() -> None:
    caught = [m for m in CASES["emergency"] if (v := check_message(m)) and v.category is SafetyCategory.EMERGENCY]
    assert len(caught) / len(CASES["emergency"]) == 1.0


def test_an_emergency_wins_over_a_medication_mention() -> None:
    verdict = check_message("I'm on my medication and I'm suicidal")
    assert verdict is not None
    assert verdict.category is SafetyCategory.EMERGENCY


@pytest.mark.parametrize(
    ("language", "zone", "expected"),
    [
        ("en-US", "UTC", US),
        ("en", "America/Chicago", US),
        ("en-GB", "UTC", UK),
        ("en", "Europe/London", UK),
        ("de", "UTC", EU),
        ("fr-FR", "Europe/Paris", EU),
        ("en", "Asia/Tokyo", INTERNATIONAL),
    ],
)
def test_crisis_numbers_follow_the_locale(language: str, zone: str, expected: object) -> None:
    assert crisis_lines(language, zone) == expected


@pytest.mark.parametrize(
    "reply",
    [
        "Take 500 mg of magnesium before bed.",
        "You should stop taking your statin.",
        "Increase your insulin dose on fasting days.",
        "You probably have type 2 diabetes.",
        "My diagnosis is an iron deficiency.",
    ],
)
def test_post_filter_flags_clinical_statements(reply: str) -> None:
    assert needs_disclaimer(reply)


@pytest.mark.parametrize(
    "reply",
    [
        "You have 2 h 40 min left until fat burning.",
        "Increase your pace in the last round.",
        "You have a 3-day streak - keep going!",
        "Try taking a short walk after lunch.",
        "Your LDL is 3.4 mmol/L, above the lab's range of 0-3.",
    ],
)
def test_post_filter_ignores_everyday_coaching(reply: str) -> None:
    assert not needs_disclaimer(reply)
