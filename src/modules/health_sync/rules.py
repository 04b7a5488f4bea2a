"""Rules of a device sync, without I/O: which request field is which metric type, where a
reading is stored (daily totals at the local midnight of their day), and which readings are
refused (in the future, before 2000, two different values for one stored row)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from src.modules.metrics import Measurement, MetricType

from .errors import InvalidHealthValue
from .models import HealthSyncRequest, Reading, StepsReading
from .recovery import local_midnight

ACCESSED_BY = "health_sync"
STEPS = MetricType.STEPS
CALORIES = MetricType.CALORIES_BURNED
WEIGHT = MetricType.WEIGHT
BODY_FAT = MetricType.BODY_FAT
RESTING_HR = MetricType.RESTING_HR
HRV = MetricType.HRV
SLEEP = MetricType.SLEEP

# Request field -> stored metric type, in the reference order.
SYNC_FIELDS: dict[str, str] = {
    "resting_heart_rate": RESTING_HR,
    "hrv": HRV,
    "sleep_hours": SLEEP,
    "steps": STEPS,
    "active_calories": CALORIES,
    "weight_kg": WEIGHT,
    "body_fat_pct": BODY_FAT,
}
HEALTH_TYPES: tuple[str, ...] = tuple(SYNC_FIELDS.values())
DAILY_TYPES = frozenset({STEPS, CALORIES, SLEEP})
FUTURE_TOLERANCE = timedelta(minutes=5)
OLDEST = datetime(2000, 1, 1, tzinfo=UTC)  # no consumer health device recorded earlier

Loc = tuple[str | int, ...]
SYNCED_AT_LOC: Loc = ("body", "synced_at")


def invalid(loc: Loc, message: str, kind: str) -> InvalidHealthValue:
    where = ".".join(str(part) for part in loc[1:])
    return InvalidHealthValue(
        f"{where}: {message}",
        extra={"field": where, "errors": [{"loc": list(loc), "msg": message, "type": kind}]},
    )


@dataclass(frozen=True)
class SyncReading:
    loc: Loc  # where the value is in the request
    metric_type: str
    value: float
    measured_at: datetime


def check_instant(value: datetime, loc: Loc, now: datetime) -> datetime:
    # Compared before any conversion: converting an instant near year 1 or 9999 could overflow.
    if value > now + FUTURE_TOLERANCE:
        raise invalid(loc, "must not be in the future", "value_error.future")
    if value.year < OLDEST.year or value < OLDEST:
        raise invalid(loc, "must not be before 2000", "value_error.too_old")
    return value.astimezone(UTC)


def readings_of(body: HealthSyncRequest, now: datetime) -> list[SyncReading]:
    synced_at = check_instant(body.synced_at, SYNCED_AT_LOC, now)
    out: list[SyncReading] = []
    for name, metric_type in SYNC_FIELDS.items():
        given: float | Reading | StepsReading | None = getattr(body, name)
        if given is None:
            continue
        if isinstance(given, Reading | StepsReading):
            when = synced_at
            if given.measured_at is not None:
                when = check_instant(given.measured_at, ("body", name, "measured_at"), now)
            out.append(SyncReading(("body", name, "value"), metric_type, float(given.value), when))
        else:
            out.append(SyncReading(("body", name), metric_type, float(given), synced_at))
    for index, sample in enumerate(body.samples or ()):
        when = check_instant(sample.measured_at, ("body", "samples", index, "measured_at"), now)
        value_loc: Loc = ("body", "samples", index, "value")
        if sample.metric_type == STEPS and not sample.value.is_integer():
            raise invalid(value_loc, "steps are a whole number", "value_error.not_integer")
        out.append(SyncReading(value_loc, sample.metric_type, sample.value, when))
    return out


def stored_instant(metric_type: str, measured_at: datetime, zone: ZoneInfo) -> datetime:
    """Where a reading is stored: daily totals at the local midnight of their day."""
    if metric_type in DAILY_TYPES:
        return local_midnight(measured_at.astimezone(zone).date(), zone)
    return measured_at


def measurement(metric_type: str, value: float, instant: datetime, zone: ZoneInfo) -> Measurement:
    """A reading as stored (`instant` from `stored_instant`): a daily total also names its day."""
    day = instant.astimezone(zone).date() if metric_type in DAILY_TYPES else None
    return Measurement(metric_type=metric_type, value=value, timestamp=instant, day=day)


def deduplicated(readings: Sequence[SyncReading], zone: ZoneInfo) -> list[tuple[SyncReading, datetime]]:
    """One reading per stored row. The same value twice is harmless; two different values for the
    same row (e.g. two step totals for one day) are refused rather than one silently dropped."""
    seen: dict[tuple[str, datetime], SyncReading] = {}
    out: list[tuple[SyncReading, datetime]] = []
    for reading in readings:
        instant = stored_instant(reading.metric_type, reading.measured_at, zone)
        key = (reading.metric_type, instant)
        first = seen.get(key)
        if first is None:
            seen[key] = reading
            out.append((reading, instant))
            continue
        if first.value != reading.value:
            what = (
                f"the day {instant.astimezone(zone).date().isoformat()}"
                if reading.metric_type in DAILY_TYPES
                else "the same instant"
            )
            raise invalid(
                reading.loc,
                f"a second, different {reading.metric_type} value for {what} in one sync "
                f"(first given at {'.'.join(str(p) for p in first.loc[1:])}); send one value per "
                + ("day" if reading.metric_type in DAILY_TYPES else "instant"),
                "value_error.duplicate",
            )
    return out
