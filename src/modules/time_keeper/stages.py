"""Fasting stages and protocol arithmetic (pure functions)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

HOUR = 3600


@dataclass(frozen=True)
class Stage:
    name: str
    label: str
    starts_at_hours: int
    ends_at_hours: int | None
    description: str


STAGES: tuple[Stage, ...] = (
    Stage("anabolic", "Anabolic", 0, 4, "Digesting and absorbing your last meal; insulin is elevated."),
    Stage("catabolic", "Catabolic", 4, 16, "Glycogen stores are being used; insulin falls."),
    Stage("fat_burning", "Fat burning", 16, 24, "Your body turns increasingly to fat for fuel."),
    Stage("ketosis", "Ketosis", 24, 72, "Ketone production rises as fat becomes the main fuel."),
    Stage("deep_ketosis", "Deep ketosis", 72, None, "Prolonged fasting: seek medical supervision."),
)

# Fasting and eating hours of each protocol. Protocols of a day or more are followed by an 8-hour
# eating window; custom fasts under a day leave the rest of the day for eating.
PROTOCOL_HOURS: dict[str, tuple[int, int]] = {
    "16:8": (16, 8),
    "18:6": (18, 6),
    "20:4": (20, 4),
    "OMAD": (23, 1),
    "24h": (24, 8),
    "36h": (36, 8),
}
DEFAULT_PROTOCOL = "16:8"


def protocol_hours(protocol: str, custom_hours: int | None) -> tuple[int, int]:
    if protocol == "custom":
        hours = custom_hours or 16
        return hours, (24 - hours if hours < 24 else 8)
    return PROTOCOL_HOURS[protocol]


def stage_index(elapsed_seconds: int) -> int:
    hours = elapsed_seconds / HOUR
    index = 0
    for i, stage in enumerate(STAGES):
        if hours >= stage.starts_at_hours:
            index = i
    return index


Span = tuple[datetime, datetime | None]


def pause_timeline(
    start: datetime, paused_seconds: int, ended: Sequence[tuple[datetime, datetime]], paused_at: datetime | None
) -> list[Span]:
    """Every pause of a fast as (start, end), oldest first; the one in progress ends with None.

    Pauses taken before pauses were logged are known only through the `paused_seconds` total
    (whole seconds per pause); they are placed at the start of the fast, the earliest they can
    have been."""
    logged = sum(int((pause_end - pause_start).total_seconds()) for pause_start, pause_end in ended)
    spans: list[Span] = []
    if paused_seconds > logged:
        spans.append((start, start + timedelta(seconds=paused_seconds - logged)))
    spans.extend(ended)
    if paused_at is not None:
        spans.append((paused_at, None))
    return spans


def instant_at(
    start: datetime, pauses: Sequence[tuple[datetime, datetime | None]], fasted_seconds: float
) -> datetime | None:
    """The instant a fast that began at `start` had fasted `fasted_seconds`, given its pauses
    (start, end) in order; only the last may still be open (end None). None when the fast gets
    there only after a pause that has not ended yet. A pause that begins exactly when the mark is
    reached does not delay it."""
    at = start
    left = timedelta(seconds=max(0.0, fasted_seconds))
    for pause_start, pause_end in pauses:
        if pause_end is not None and pause_end <= at:
            continue  # already behind us (or clipped away by an earlier one)
        ran = max(timedelta(0), pause_start - at)
        if left <= ran:
            return at + left
        left -= ran
        if pause_end is None:
            return None
        at = max(at, pause_end)
    return at + left
