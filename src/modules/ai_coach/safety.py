"""Safety of what people send to the coach and of what it answers (pure functions).

The rules live in `data/safety_rules.json`. A message is normalised first (lower case, the
apostrophe variants removed, punctuation as spaces), so "can't", "can’t", "CANT" and "cant"
read alike, and patterns match whole words and phrases, never bare substrings ("adrenaline" does
not contain the word "renal", "breaststroke" is not a stroke). Emergency rules are checked before
anything else; a match is answered with crisis guidance and the model is never called. Medical
questions (dosing, medication changes, diagnosis, cures) are redirected to a clinician.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

RULES_FILE = Path(__file__).parent / "data" / "safety_rules.json"

_APOSTROPHES = re.compile(r"['’‘ʼ`´]")
_NON_WORD = re.compile(r"[^a-z0-9]+")


class SafetyCategory(StrEnum):
    EMERGENCY = "emergency"
    MEDICAL = "medical"


@dataclass(frozen=True)
class SafetyVerdict:
    category: SafetyCategory
    kind: str
    rule: str


@dataclass(frozen=True)
class _Rule:
    id: str
    kind: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class _Combination:
    id: str
    kind: str
    context: re.Pattern[str]
    symptoms: tuple[re.Pattern[str], ...]
    min_symptoms: int


@dataclass(frozen=True)
class _Rules:
    emergency: tuple[_Rule, ...]
    combinations: tuple[_Combination, ...]
    medical: tuple[_Rule, ...]


def normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).lower()
    folded = _APOSTROPHES.sub("", folded)
    return _NON_WORD.sub(" ", folded).strip()


def _rules_of(raw: list[dict[str, Any]]) -> tuple[_Rule, ...]:
    return tuple(_Rule(r["id"], r["kind"], re.compile(r["pattern"])) for r in raw)


@cache
def _rules() -> _Rules:
    data = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    return _Rules(
        emergency=_rules_of(data["emergency"]),
        combinations=tuple(
            _Combination(
                c["id"],
                c["kind"],
                re.compile(c["context"]),
                tuple(re.compile(s) for s in c["symptoms"]),
                int(c["min_symptoms"]),
            )
            for c in data["combinations"]
        ),
        medical=_rules_of(data["medical"]),
    )


def check_message(text: str) -> SafetyVerdict | None:
    """The first safety category the message falls in (emergency before medical), or None."""
    normal = normalise(text)
    rules = _rules()
    for rule in rules.emergency:
        if rule.pattern.search(normal):
            return SafetyVerdict(SafetyCategory.EMERGENCY, rule.kind, rule.id)
    for combination in rules.combinations:
        if combination.context.search(normal):
            hits = sum(1 for symptom in combination.symptoms if symptom.search(normal))
            if hits >= combination.min_symptoms:
                return SafetyVerdict(SafetyCategory.EMERGENCY, combination.kind, combination.id)
    for rule in rules.medical:
        if rule.pattern.search(normal):
            return SafetyVerdict(SafetyCategory.MEDICAL, rule.kind, rule.id)
    return None


# Crisis numbers --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrisisLines:
    region: str
    emergency: str
    crisis: str


US = CrisisLines("US", "911", "988 (call or text, Suicide & Crisis Lifeline)")
UK = CrisisLines("UK", "999", "116 123 (Samaritans, free, any time)")
EU = CrisisLines("EU", "112", "your national crisis line (in Europe 112 also reaches emergency services)")
INTERNATIONAL = CrisisLines(
    "international", "your local emergency number (112 in Europe, 911 in the US, 999 in the UK)", "a local crisis line"
)

_US_REGIONS = {"us", "pr"}
_UK_REGIONS = {"gb", "uk", "im", "je", "gg"}
_EU_REGIONS = {
    "at", "be", "bg", "hr", "cy", "cz", "dk", "ee", "fi", "fr", "de", "gr", "hu", "ie", "it", "lv", "lt", "lu",
    "mt", "nl", "pl", "pt", "ro", "sk", "si", "es", "se", "is", "no", "ch", "li",
}  # fmt: skip
_EU_LANGUAGES = {"de", "fr", "es", "it", "nl", "pl", "pt", "sv", "da", "fi", "cs", "el", "hu", "ro", "sk", "sl"}


def crisis_lines(language: str | None, timezone: str | None) -> CrisisLines:
    """The person's emergency numbers from their locale (language region first, then time zone)."""
    region = (language or "").replace("_", "-").partition("-")[2].lower()
    if region in _US_REGIONS:
        return US
    if region in _UK_REGIONS:
        return UK
    if region in _EU_REGIONS:
        return EU
    zone = timezone or ""
    if (zone.startswith("America/") and zone not in ("America/Toronto", "America/Vancouver")) or zone.startswith("US/"):
        return US
    if zone in ("Europe/London", "Europe/Belfast", "Europe/Isle_of_Man", "Europe/Jersey", "Europe/Guernsey"):
        return UK
    if zone.startswith("Europe/"):
        return EU
    if (language or "").partition("-")[0].lower() in _EU_LANGUAGES:
        return EU
    return INTERNATIONAL


def emergency_reply(kind: str, lines: CrisisLines) -> str:
    if kind in ("self_harm", "disordered_eating", "overdose"):
        return (
            "I'm really sorry you're going through this, and I'm glad you told me. Your safety matters more than "
            f"any fast or workout. If you might act on these feelings or are in danger now, call {lines.emergency} "
            f"right away. You can also reach {lines.crisis}. If you can, tell someone near you how you feel, and "
            "stay with them. I'm an AI coach, so I can't give you the help you deserve right now, but people at "
            "those numbers can, any time of day."
        )
    first_step = "Stop fasting and exercising now. " if kind in ("hypoglycaemia", "fainting") else ""
    sugar = (
        "If you can swallow safely, take fast-acting sugar (juice, glucose tablets) while you wait for help. "
        if kind == "hypoglycaemia"
        else ""
    )
    return (
        f"This could be a medical emergency. {first_step}{sugar}Call {lines.emergency} now, or ask someone near "
        "you to call for you. Don't wait to see whether it passes and don't drive yourself. I'm an AI coach and "
        "can't assess symptoms; emergency services can."
    )


MEDICAL_REPLIES: dict[str, str] = {
    "dosing": (
        "I can't advise on doses or amounts of any medicine or supplement. Please ask your doctor or pharmacist: "
        "they know your history and what you take. I'm happy to help with your fasting schedule, workouts and "
        "progress in the meantime."
    ),
    "medication": (
        "Questions about starting, stopping or combining medication belong with your doctor or pharmacist, "
        "especially when fasting changes when and what you eat. Please don't change anything without them. "
        "I can help you plan fasts and workouts around what they advise."
    ),
    "diagnosis": (
        "I can't diagnose conditions. If something worries you, please see your doctor: they can examine you and "
        "order the right tests. I can explain what your logged numbers mean against their reference ranges, and "
        "help with your fasting and training."
    ),
    "cure": (
        "Fasting and exercise support general wellbeing, but they are not a cure or treatment for a disease. "
        "Please talk to your doctor about treatment. I can help you build healthy routines alongside their care."
    ),
}

MEDICAL_DISCLAIMER = "I'm an AI coach, not a medical professional: for medical questions, please talk to your doctor."

FASTING_OFF_REPLY = (
    "Fasting coaching is turned off for you because your health profile lists {reasons}. Fasting isn't advised "
    "without your doctor's guidance in that case, so I won't coach fasts. I'm glad to help with gentle movement, "
    "sleep and your other goals, and your doctor can tell you what is safe."
)


# What the coach answers ------------------------------------------------------------------------

_POST_FILTER = (
    re.compile(r"\b\d+(?:[.,]\d+)?\s?(?:mg|mcg|µg|iu|milligrams?|micrograms?)\b", re.IGNORECASE),
    re.compile(r"\b\d+(?:[.,]\d+)?\s?units? of (?:insulin|medication)\b", re.IGNORECASE),
    re.compile(r"\b(?:stop|start|quit) taking\b", re.IGNORECASE),
    re.compile(
        r"\b(?:increase|decrease|reduce|double|halve|skip|change) (?:your|the) "
        r"(?:dose|dosage|medication|meds|insulin|prescription)\b",
        re.IGNORECASE,
    ),
    re.compile(
        r"\byou (?:have|likely have|probably have|might have|may have|are suffering from) "
        r"(?:a |an )?(?:\w+ ){0,2}(?:disease|diabetes|cancer|disorder|syndrome|deficiency|infection|anaemia|anemia|"
        r"hypothyroidism|hyperthyroidism|hypertension)\b",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?:my|the|a) diagnosis\b|\bi (?:would )?diagnose\b", re.IGNORECASE),
)


def needs_disclaimer(reply: str) -> bool:
    """Does the reply contain what only a clinician should say (amounts of a drug, medication
    changes, a diagnosis)? Everyday phrasing ("you have 2 h left", "increase your pace") does not."""
    if MEDICAL_DISCLAIMER in reply:
        return False
    return any(pattern.search(reply) for pattern in _POST_FILTER)
