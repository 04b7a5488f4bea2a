"""Pure rules: quiet hours and local times in the person's zone, what may travel in a push."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# Health values never travel through the push services: a body that looks like it holds one
# (a weight, a lab value, a heart rate…) is replaced by a neutral line; the app shows the details.
_HEALTH_VALUE = re.compile(
    r"\d+(?:[.,]\d+)?\s*(?:kg|kgs|lb|lbs|pounds?|mg/dl|mmol/l|mmol|µmol/l|umol/l|ng/ml|pg/ml|iu/l|u/l|g/dl|"
    r"bpm|ms|%\s*body\s*fat|bmi)\b",
    re.IGNORECASE,
)
PUSH_NEUTRAL_BODY = "Open UGOKI to see the details."


def push_safe(text: str) -> str:
    return PUSH_NEUTRAL_BODY if _HEALTH_VALUE.search(text) else text


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a local day (a time skipped by a DST jump moves
    forward by the jump; a repeated one takes its first occurrence)."""
    # fold=0: a repeated time is its first occurrence; a time in a gap is read with the offset
    # before the jump, which lands after the jump by its length (02:30 → 03:30).
    return datetime.combine(day, at.replace(tzinfo=None)).replace(tzinfo=zone, fold=0).astimezone(UTC)


def next_local(now: datetime, at: time, zone_name: str) -> datetime:
    """The next instant (strictly after `now`) when the local clock reads `at`."""
    zone = ZoneInfo(zone_name)
    today = now.astimezone(zone).date()
    for offset in range(3):
        candidate = local_instant(today + timedelta(days=offset), at, zone)
        if candidate > now:
            return candidate
    raise AssertionError("a local time recurs within three days")  # pragma: no cover


def in_window(t: time, start: time, end: time) -> bool:
    """`start <= t < end`, the window wrapping midnight when start > end; start == end is empty."""
    if start == end:
        return False
    if start < end:
        return start <= t < end
    return t >= start or t < end


def quiet_until(now: datetime, zone_name: str, start: time, end: time) -> datetime | None:
    """When the quiet hours around `now` end, or None when `now` is outside them."""
    local = now.astimezone(ZoneInfo(zone_name))
    if not in_window(local.time().replace(tzinfo=None), start, end):
        return None
    return next_local(now, end, zone_name)


WORKOUT_TIME_WORDS = {"morning": time(7, 0), "afternoon": time(12, 0), "evening": time(18, 0), "night": time(20, 0)}


def parse_workout_time(value: str | None) -> time | None:
    """The profile's free-form preferred workout time: `HH:MM` or a part of the day."""
    if not value:
        return None
    text = value.strip().lower()
    if text in WORKOUT_TIME_WORDS:
        return WORKOUT_TIME_WORDS[text]
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::\d{2})?\s*(am|pm)?", text)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if match.group(3) == "pm" and hour < 12:
        hour += 12
    if match.group(3) == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)
