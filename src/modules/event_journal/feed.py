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


# The line of every event type when its metadata has nothing more specific to say.
E = EventType
DEFAULT_LINES: dict[EventType, str] = {
    E.IDENTITY_CREATED: "Your UGOKI account was created",
    E.LOGIN: "You signed in",
    E.LOGOUT: "You signed out",
    E.ACCOUNT_UPGRADED: "Your account is now secured with a sign-in method",
    E.SESSION_REVOKED: "You were signed out of a session",
    E.PERSONAL_TOKEN_CREATED: "You created a personal access token",
    E.PERSONAL_TOKEN_REVOKED: "You revoked a personal access token",
    E.PERSONAL_TOKEN_USED: "One of your personal access tokens was used",
    E.FAST_STARTED: "You started a fast",
    E.FAST_PAUSED: "You paused your fast",
    E.FAST_RESUMED: "You resumed your fast",
    E.FAST_COMPLETED: "You completed a fast",
    E.FAST_ABANDONED: "You ended a fast early",
    E.FAST_EXTENDED: "You moved the planned end of your fast",
    E.FAST_LOGGED: "You logged a past fast",
    E.FAST_START_CORRECTED: "You corrected when your fast started",
    E.EATING_WINDOW_STARTED: "Your eating window opened",
    E.EATING_WINDOW_ENDED: "Your eating window closed",
    E.WORKOUT_STARTED: "You started a workout",
    E.WORKOUT_COMPLETED: "You completed a workout",
    E.WORKOUT_ABANDONED: "You ended a workout early",
    E.WORKOUT_RATED: "You rated a workout",
    E.XP_EARNED: "You earned XP",
    E.LEVEL_UP: "You reached a new level",
    E.STREAK_INCREMENTED: "Your streak grew",
    E.STREAK_RESET: "Your streak started again",
    E.ACHIEVEMENT_UNLOCKED: "You unlocked an achievement",
    E.PROFILE_CREATED: "You created your profile",
    E.PROFILE_UPDATED: "You updated your profile",
    E.GOALS_UPDATED: "You updated your goals",
    E.PREFERENCES_UPDATED: "You updated your preferences",
    E.WEIGHT_LOGGED: "You logged your weight",
    E.BIOMARKER_UPLOADED: "You added lab results",
    E.METRIC_RECORDED: "You recorded a measurement",
    E.HEALTH_SYNCED: "Health data synced from your device",
    E.COACH_MESSAGE_SENT: "You messaged your coach",
    E.COACH_INSIGHT_VIEWED: "You read a coach insight",
    E.RECIPE_SAVED: "You saved a recipe",
    E.RECIPE_UNSAVED: "You removed a saved recipe",
    E.FRIEND_REQUEST_SENT: "You sent a friend request",
    E.FRIEND_REQUEST_ACCEPTED: "You have a new friend",
    E.FRIEND_REQUEST_DECLINED: "A friend request was declined",
    E.FRIEND_REMOVED: "A friend was removed",
    E.USER_BLOCKED: "You blocked someone",
    E.USER_UNBLOCKED: "You unblocked someone",
    E.FOLLOW_STARTED: "You started following someone",
    E.FOLLOW_ENDED: "You stopped following someone",
    E.CHALLENGE_CREATED: "You created a challenge",
    E.CHALLENGE_JOINED: "You joined a challenge",
    E.CHALLENGE_LEFT: "You left a challenge",
    E.CHALLENGE_COMPLETED: "A challenge you took part in ended",
    E.CHALLENGE_WON: "You won a challenge",
    E.SHARE_CREATED: "You shared something",
    E.HEALTH_DATA_ACCESSED: "Your health data was read to answer you",
    E.DATA_EXPORTED: "You exported your data",
    E.HEALTH_CONSENT_GRANTED: "You allowed device health sync",
    E.HEALTH_CONSENT_WITHDRAWN: "You stopped device health sync",
    E.HEALTH_DATA_DELETED: "Your device health data was deleted",
    E.APP_OPENED: "You opened the app",
    E.WORKOUT_VIEWED: "You looked at a workout",
    E.RECIPE_VIEWED: "You looked at a recipe",
    E.RESEARCH_VIEWED: "You read a research summary",
}


def describe(event_type: str, metadata: dict[str, Any]) -> str | None:
    """The feed line for an event that has no stored description: what its metadata says, else
    its type's line (None only for a type this version does not know)."""
    line = _specific(event_type, metadata)
    if line:
        return line
    try:
        return DEFAULT_LINES.get(EventType(event_type))
    except ValueError:
        return None


def _specific(event_type: str, metadata: dict[str, Any]) -> str | None:
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
    if event_type == EventType.WORKOUT_COMPLETED and "base_xp" in meta:
        return _earned_line("workout", {**meta, "name": meta.get("workout_name")})
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
    """ "16 h fast: 50 XP, +25 XP 3-day streak bonus, +75 XP achievement 'Week Warrior'": what an
    activity earned, part by part (the parts add up to `xp_earned`)."""
    hours = _number(meta.get("duration_hours"))
    if kind == "fast":
        head = f"{round(hours)} h fast" if hours is not None else "Fast"
    else:
        head = _text(meta.get("name")) or kind.capitalize()
        minutes = _number(meta.get("duration_minutes"))
        if minutes is not None:
            head += f" ({round(minutes)} min)"
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
