"""The offline extractive summariser: a digest made only of the paper's own sentences.

Sentences of the (structured) abstract are scored: the section they come from (conclusions and
results above objective, methods and background; position stands in for the label in an
unstructured abstract), words that report an outcome, figures, and overlap with the title. The
best ones become the one-liner, the TL;DR (objective, result, conclusion), the bullets and the
key benefits; the audience comes from the topic and from who the abstract says was studied.
Deterministic: the same paper always gives the same digest.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .models import KeyBenefit, ResearchDigest, ResearchTopic

DEFAULT_AUDIENCE = "Research Readers"

_SECTION_WEIGHTS = {
    "CONCLUSIONS": 3.0,
    "RESULTS": 2.2,
    "OBJECTIVE": 1.6,
    "METHODS": 0.8,
    "BACKGROUND": 0.6,
}
_LABEL_CATEGORIES = (
    (("CONCLUSION", "INTERPRETATION", "IMPLICATION", "HEADLINE"), "CONCLUSIONS"),
    (("RESULT", "FINDING", "OUTCOME", "KEY POINT", "SUMMARY"), "RESULTS"),
    (("OBJECTIVE", "AIM", "PURPOSE", "QUESTION", "GOAL"), "OBJECTIVE"),
    (("METHOD", "DESIGN", "SETTING", "PARTICIPANT", "INTERVENTION", "MEASURE", "SEARCH", "SELECTION"), "METHODS"),
    (("BACKGROUND", "INTRODUCTION", "CONTEXT", "IMPORTANCE", "RATIONALE"), "BACKGROUND"),
)
_OUTCOME = re.compile(
    r"\b(improv\w*|reduc\w*|increas\w*|decreas\w*|lower\w*|higher|associat\w*|effect\w*|benefi\w*|"
    r"significant\w*|greater|less|loss|gain\w*|risk)\b",
    re.IGNORECASE,
)
_FIGURE = re.compile(r"\d")
_WORD = re.compile(r"[a-z][a-z0-9-]{3,}")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"'])")
_STOP = frozenset(
    "with from that this were have been their than into over after during among between which these those "
    "study studies effect effects trial review adults".split()
)

# (pattern, emoji, benefit title)
_BENEFITS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(r"\b(weight|body fat|fat mass|adipos\w*|waist|bmi|obes\w*)\b", re.I), "⚖️", "Weight and body fat"),
    (re.compile(r"\b(glucose|insulin|glyc\w*|diabet\w*|metabolic)\b", re.I), "🩸", "Blood sugar and metabolism"),
    (re.compile(r"\b(blood pressure|cardio\w*|heart|cholesterol|lipid\w*|vascular)\b", re.I), "❤️", "Heart health"),
    (re.compile(r"\b(muscle|strength|lean mass|protein synthesis|hypertroph\w*)\b", re.I), "💪", "Muscle and strength"),
    (re.compile(r"\b(vo2\w*|aerobic|fitness|endurance|capacity)\b", re.I), "🏃", "Fitness"),
    (re.compile(r"\b(sleep\w*|insomnia|circadian)\b", re.I), "😴", "Sleep"),
    (re.compile(r"\b(mood|depress\w*|anxiety|cogniti\w*|brain|mental)\b", re.I), "🧠", "Mood and mind"),
    (re.compile(r"\b(mortality|death|longevity|ageing|aging|lifespan)\b", re.I), "⏳", "Long-term health"),
    (re.compile(r"\b(inflammat\w*|crp|oxidative)\b", re.I), "🛡️", "Inflammation"),
)
_AUDIENCE_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(older adults|elderly|aged (6|7)\d|seniors?)\b", re.I), "Older Adults"),
    (re.compile(r"\b(overweight|obes\w*|weight loss)\b", re.I), "Weight Loss Focus"),
    (re.compile(r"\b(diabet\w*|insulin resistance|prediabet\w*|metabolic syndrome)\b", re.I), "Metabolic Health"),
    (re.compile(r"\b(athletes?|trained (men|women|individuals))\b", re.I), "Athletes"),
    (re.compile(r"\b(women|female|postmenopausal)\b", re.I), "Women"),
    (re.compile(r"\b(muscle|resistance training|strength)\b", re.I), "Muscle Builders"),
    (re.compile(r"\b(insomnia|sleep quality|shift work\w*)\b", re.I), "Better Sleepers"),
)
TOPIC_AUDIENCE = {
    ResearchTopic.INTERMITTENT_FASTING: "16:8 Fasters",
    ResearchTopic.HIIT: "HIIT Enthusiasts",
    ResearchTopic.NUTRITION: "Nutrition Minded",
    ResearchTopic.SLEEP: "Better Sleepers",
}
# The library's audience codes as the app shows them.
LIBRARY_AUDIENCE = {
    "beginners": "Beginners",
    "weight_loss": "Weight Loss Focus",
    "metabolic_health": "Metabolic Health",
    "muscle": "Muscle Builders",
    "endurance": "Endurance Athletes",
    "older_adults": "Older Adults",
    "women": "Women",
    "busy_professionals": "Busy Professionals",
    "sleep": "Better Sleepers",
    "longevity": "Healthy Ageing",
}


@dataclass(frozen=True)
class Section:
    label: str | None
    category: str | None
    text: str


@dataclass(frozen=True)
class _Sentence:
    text: str
    category: str | None
    order: int
    score: float


def category_of(label: str | None, category: str | None) -> str | None:
    if category and category.upper() in _SECTION_WEIGHTS:
        return category.upper()
    if not label:
        return None
    upper = label.upper()
    for words, found in _LABEL_CATEGORIES:
        if any(word in upper for word in words):
            return found
    return None


def split_sentences(text: str) -> list[str]:
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return []
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary with an ellipsis."""
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def _score(sentences: Sequence[tuple[str, str | None]], title: str) -> list[_Sentence]:
    title_words = _content_words(title)
    total = len(sentences)
    scored: list[_Sentence] = []
    for order, (text, category) in enumerate(sentences):
        if category is not None:
            weight = _SECTION_WEIGHTS[category]
        else:  # unstructured: the end usually concludes, the start states the aim
            weight = 2.5 if order >= total - 2 else 1.5 if order == 0 else 1.2
        weight += min(1.2, 0.4 * len(_OUTCOME.findall(text)))
        if _FIGURE.search(text):
            weight += 0.3
        weight += min(1.0, 0.2 * len(title_words & _content_words(text)))
        if len(text) < 40:
            weight -= 1.0
        elif len(text) > 320:
            weight -= 1.0
        scored.append(_Sentence(text=text, category=category, order=order, score=weight))
    return scored


def _best(sentences: Iterable[_Sentence]) -> _Sentence | None:
    ranked = sorted(sentences, key=lambda s: (-s.score, s.order))
    return ranked[0] if ranked else None


def summarise(
    *,
    title: str,
    sections: Sequence[Section],
    topic: ResearchTopic | None,
    audience_hints: Sequence[str] = (),
) -> ResearchDigest:
    """A digest of the paper from its own sentences (see the module docstring)."""
    pieces: list[tuple[str, str | None]] = []
    for section in sections:
        category = category_of(section.label, section.category)
        pieces.extend((sentence, category) for sentence in split_sentences(section.text))
    scored = _score(pieces, title)
    text = " ".join(s.text for s in scored)
    audience = _audience(text, topic, audience_hints)
    if sum(len(s.text) for s in scored) < 50:
        # Too little to summarise: say so rather than invent; the link leads to the paper.
        return ResearchDigest(
            one_liner=shorten(title, 160),
            key_benefits=[],
            audience_tags=audience,
            tldr="No abstract is available for this paper; open it on PubMed to read the full record.",
            abstract_bullets=[],
        )
    conclusion = _best(s for s in scored if s.category == "CONCLUSIONS") or _best(scored)
    if conclusion is None:  # pragma: no cover - scored holds at least 50 characters of sentences here
        raise ValueError("nothing to summarise")
    objective = _best(s for s in scored if s.category == "OBJECTIVE")
    result = _best(s for s in scored if s.category == "RESULTS" and s is not conclusion)
    tldr_parts = [s for s in (objective, result, conclusion) if s is not None]
    tldr_parts.sort(key=lambda s: s.order)
    tldr = ""
    for part in tldr_parts:
        candidate = f"{tldr} {part.text}".strip()
        if len(candidate) <= 500:
            tldr = candidate
    if not tldr:
        tldr = shorten(conclusion.text, 500)
    informative = [s for s in scored if s.category not in ("BACKGROUND", "METHODS")] or scored
    # Bullets prefer sentences that fit whole (150 characters) over cut ones.
    top = sorted(informative, key=lambda s: (-(s.score - (1.5 if len(s.text) > 150 else 0)), s.order))[:5]
    bullets = [shorten(s.text, 150) for s in sorted(top, key=lambda s: s.order)]
    return ResearchDigest(
        one_liner=shorten(conclusion.text, 160),
        key_benefits=_benefits(scored),
        audience_tags=audience,
        tldr=tldr,
        abstract_bullets=bullets,
    )


def _benefits(scored: Sequence[_Sentence]) -> list[KeyBenefit]:
    out: list[KeyBenefit] = []
    used: set[str] = set()
    for sentence in sorted(scored, key=lambda s: (-s.score, s.order)):
        if sentence.category in ("BACKGROUND", "METHODS") or not _OUTCOME.search(sentence.text):
            continue
        for pattern, emoji, title in _BENEFITS:
            if title not in used and pattern.search(sentence.text):
                used.add(title)
                out.append(KeyBenefit(emoji=emoji, title=title, description=shorten(sentence.text, 200)))
                break
        if len(out) == 5:
            break
    if not out:
        best = _best(s for s in scored if s.category not in ("BACKGROUND", "METHODS")) or _best(scored)
        if best is not None:
            out.append(KeyBenefit(emoji="📊", title="Key finding", description=shorten(best.text, 200)))
    return out


def _audience(text: str, topic: ResearchTopic | None, hints: Sequence[str]) -> list[str]:
    tags: list[str] = []

    def add(tag: str) -> None:
        tag = shorten(tag, 30)
        if tag and tag not in tags and len(tags) < 4:
            tags.append(tag)

    for hint in hints:
        add(LIBRARY_AUDIENCE.get(hint, hint.replace("_", " ").title()))
    if topic is not None and not hints:
        add(TOPIC_AUDIENCE[topic])
    for pattern, tag in _AUDIENCE_WORDS:
        if pattern.search(text):
            add(tag)
    return tags or [DEFAULT_AUDIENCE]
