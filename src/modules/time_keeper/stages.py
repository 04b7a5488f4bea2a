"""Fasting stages and protocol arithmetic (pure functions)."""

from __future__ import annotations

from dataclasses import dataclass

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
