"""Feed presentation: titles, icons and one-line descriptions of events."""

from __future__ import annotations

import math
from typing import Any

from .models import EVENT_TYPES, EventType


def _number(value: Any) -> float | None:
    """A finite number from JSON metadata (numbers or numeric strings); anything else is None."""
    if isinstance(value, bool):
        return None
    number: float
    try:
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            number = float(value.strip())
        else:
            return None
    except (ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _text(value: Any) -> str | None:
    """A non-empty string from metadata; numbers, booleans and containers are not names."""
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _fmt(value: float) -> str:
    return str(int(value)) if value == int(value) else f"{value:g}"


def describe(event_type: str, metadata: dict[str, Any]) -> str | None:
    """The feed line for an event that has no stored description (None when nothing to say)."""
    meta = metadata or {}
    xp = _number(meta.get("xp_earned"))
    if event_type in (EventType.FAST_COMPLETED, EventType.FAST_LOGGED) and "base_xp" in meta:
        return _earned_line("fast", meta)
    if event_type == EventType.FAST_COMPLETED:
        hours = _number(meta.get("duration_hours"))
        parts = []
        if hours is not None:
            parts.append(f"{round(hours)} hour fast")
        if xp:
            parts.append(f"{_fmt(xp)} XP earned")
        return " · ".join(parts) or None
    if event_type == EventType.WORKOUT_COMPLETED:
        parts = []
        name = _text(meta.get("workout_name"))
        if name:
            parts.append(name)
        minutes = _number(meta.get("duration_minutes"))
        if minutes is not None:
            parts.append(f"{round(minutes)} min")
        if xp:
            parts.append(f"{_fmt(xp)} XP")
        return " · ".join(parts) or None
    if event_type == EventType.XP_EARNED:
        amount = _number(meta.get("amount"))
        if amount is None:
            return None
        reason = _text(meta.get("reason"))
        return f"+{_fmt(amount)} XP" + (f" for {reason}" if reason else "")
    if event_type == EventType.LEVEL_UP:
        level = _number(meta.get("new_level"))
        return f"Reached level {_fmt(level)}" if level is not None else None
    if event_type == EventType.ACHIEVEMENT_UNLOCKED:
        return _text(meta.get("name"))
    if event_type == EventType.WEIGHT_LOGGED:
        value = _number(meta.get("value"))
        if value is None:
            return None
        return f"{_fmt(value)} {_text(meta.get('unit')) or 'kg'}"
    if event_type in (EventType.STREAK_INCREMENTED, EventType.STREAK_RESET):
        streak_type = (_text(meta.get("streak_type")) or "").replace("_", " ").title()
        count = _number(meta.get("count" if event_type == EventType.STREAK_INCREMENTED else "previous_count"))
        if not streak_type or count is None:
            return None
        if event_type == EventType.STREAK_RESET:
            return f"{streak_type} streak reset after {_plural(count, 'day')}"
        return f"{streak_type} streak: {_plural(count, 'day')}"
    return None


def _plural(count: float, unit: str) -> str:
    return f"{_fmt(count)} {unit}" + ("" if count == 1 else "s")


def _earned_line(kind: str, meta: dict[str, Any]) -> str:
    """"16 h fast: 50 XP, +25 XP 3-day streak bonus, +75 XP achievement 'Week Warrior'": what an
    activity earned, part by part (the parts add up to `xp_earned`)."""
    hours = _number(meta.get("duration_hours"))
    head = f"{round(hours)} h {kind}" if hours is not None and kind == "fast" else (_text(meta.get("name")) or kind)
    if meta.get("credited") is False:
        reason = _text(meta.get("credit_reason"))
        return f"{head}: no XP" + (f" ({reason})" if reason else "")
    parts = [f"{_fmt(_number(meta.get('base_xp')) or 0)} XP"]
    bonus = _number(meta.get("streak_bonus_xp"))
    if bonus:
        parts.append(f"+{_fmt(bonus)} XP streak bonus")
    for achievement in meta.get("achievements") or ():
        if isinstance(achievement, dict):
            name, xp = _text(achievement.get("name")), _number(achievement.get("xp"))
            if name and xp is not None:
                parts.append(f"+{_fmt(xp)} XP achievement '{name}'")
    return f"{head}: " + ", ".join(parts)


def title_and_icon(event_type: str) -> tuple[str, str]:
    try:
        info = EVENT_TYPES[EventType(event_type)]
    except ValueError:
        return event_type.replace("_", " ").title(), "circle"
    return info.title, info.icon
