"""Long-term memories from what the person says (rules, used offline) and their de-duplication."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .models import MemoryCategory, MemoryType
from .safety import normalise

RULE_CONFIDENCE = 0.8
MIN_CONFIDENCE = 0.7
MAX_CONTENT = 500

_WORKOUT_WORDS = {"running", "run", "hiit", "yoga", "swimming", "cycling", "workouts", "workout", "lifting",
                  "weights", "burpees", "cardio", "pilates", "walking", "stretching", "squats", "training"}  # fmt: skip
_FOOD_WORDS = {"eggs", "chicken", "fish", "salmon", "rice", "pasta", "bread", "yogurt", "avocado", "coffee",
               "tea", "fruit", "vegetables", "meat", "cheese", "spicy", "sweet", "chocolate", "broth", "oats",
               "breakfast", "lunch", "dinner", "food", "meals", "tofu", "beans", "lentils"}  # fmt: skip


@dataclass(frozen=True)
class Candidate:
    memory_type: MemoryType
    category: MemoryCategory
    content: str
    confidence: float = RULE_CONFIDENCE


_RULES: tuple[tuple[re.Pattern[str], MemoryType, MemoryCategory | None], ...] = tuple(
    (re.compile(p), t, c)
    for p, t, c in (
        (r"\bmy (knee|knees|back|lower back|shoulder|shoulders|ankle|wrist|hip|neck|elbow) (hurts|is injured|"
         r"is sore|is bad|gives me trouble|is weak)\b|\bi (have|had) (a |an )?(bad|injured|weak|sore|dodgy) "
         r"(knee|back|shoulder|ankle|wrist|hip|neck|elbow)\b", MemoryType.CONSTRAINT, MemoryCategory.INJURY),
        (r"\bi (work|do) (night|nights|night shifts|shifts|early shifts|from home|long hours)\b", MemoryType.FACT,
         MemoryCategory.WORK),
        (r"\bi (only )?have (about )?\d+ (minutes|mins)\b|\bi can only (train|work out|exercise) (in the )?"
         r"(morning|mornings|evening|evenings|at lunch|on weekends)\b", MemoryType.CONSTRAINT,
         MemoryCategory.AVAILABILITY),
        (r"\bi (have|own|got) (a |some )?(dumbbells|kettlebells?|resistance bands?|pull ?up bar|yoga mat|"
         r"treadmill|bike|rowing machine)\b|\bi (have|own) no equipment\b", MemoryType.FACT,
         MemoryCategory.EQUIPMENT),
        (r"\bi (am|m|im) (a )?(vegetarian|vegan|pescatarian)\b|\bi (dont|do not) eat (meat|fish|pork|dairy)\b",
         MemoryType.FACT, MemoryCategory.FOOD_PREFERENCE),
        (r"\b(i want to|i d like to|id like to|my goal is to|i m trying to|im trying to) (lose|drop|gain|put on) "
         r"(\d+ )?(kg|kilos|pounds|lbs|weight)\b", MemoryType.GOAL, MemoryCategory.WEIGHT_GOAL),
        (r"\b(i want to|id like to|my goal is to|im training to|im trying to) (run|finish|do|complete|get|build|"
         r"be able to) [a-z0-9 ]{3,40}\b", MemoryType.GOAL, MemoryCategory.FITNESS_GOAL),
        (r"\bi (usually |only )?sleep (about |around )?\d+ hours\b|\bi (go to bed|wake up) (at|around) \d+",
         MemoryType.FACT, MemoryCategory.SLEEP),
        (r"\bi (love|like|enjoy|prefer|hate|dislike|dont like|cant stand) [a-z ]{3,40}\b", MemoryType.PREFERENCE,
         None),
        (r"\bi (am|m|im) (a )?(beginner|new to (working out|fasting|hiit|exercise)|advanced|pretty fit|"
         r"out of shape)\b", MemoryType.FACT, MemoryCategory.FITNESS_LEVEL),
        (r"\b(keep it|be) (short|brief|gentle|tough|strict|direct)\b|\bdont sugarcoat\b", MemoryType.PREFERENCE,
         MemoryCategory.COACHING_STYLE),
    )
)  # fmt: skip

_SENTENCES = re.compile(r"[^.!?\n]+[.!?]?")


def extract(message: str) -> list[Candidate]:
    """Memories stated in one message of the person (their own sentence, trimmed)."""
    found: list[Candidate] = []
    for sentence in _SENTENCES.findall(message):
        text = normalise(sentence)
        if not text:
            continue
        for pattern, memory_type, category in _RULES:
            if not pattern.search(text):
                continue
            if category is None:
                words = set(text.split())
                category = (
                    MemoryCategory.WORKOUT_PREFERENCE
                    if words & _WORKOUT_WORDS
                    else MemoryCategory.FOOD_PREFERENCE
                    if words & _FOOD_WORDS
                    else MemoryCategory.GENERAL
                )
            found.append(Candidate(memory_type, category, sentence.strip()[:200]))
            break
    return found


def overlap(a: str, b: str) -> float:
    words_a, words_b = set(normalise(a).split()), set(normalise(b).split())
    if not words_a or not words_b:
        return 0.0
    return len(words_a & words_b) / min(len(words_a), len(words_b))


def is_duplicate(candidate: Candidate, existing: list[tuple[str, str]]) -> bool:
    """More than 60 % word overlap with a memory of the same category."""
    return any(
        category == candidate.category and overlap(content, candidate.content) > 0.6 for category, content in existing
    )
