"""`/health-sync`: device health data (Apple HealthKit, Android Health Connect, Apple Health exports).

Readings are stored as ordinary metrics with source `device_sync`, through the metrics interface,
which checks each value against its type's plausible range and upserts by (person, type, source,
instant): syncing the same readings again changes nothing.

Point readings (resting heart rate, HRV, weight, body fat) keep the instant they were measured.
Daily totals (steps, active calories, sleep) are stored once per local day, at the local midnight
(in the person's profile time zone) of the day they belong to: steps and calories to the day they
were counted, sleep to the day the person woke up. A later sync of the same day's total replaces
it instead of adding a second row, so sums over days are never inflated.

Reads go through the audited metrics reads (`accessed_by="health_sync"`). The recovery score and
the insights come from `recovery.py`, which also stores the day's score.
"""

from __future__ import annotations

import asyncio
import math
import zipfile
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import IO, Annotated, Any, Literal, NoReturn
from uuid import UUID
from xml.parsers import expat
from zoneinfo import ZoneInfo

from fastapi import File, UploadFile, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Discriminator, Field, Strict, Tag

from src.core.errors import ConfirmationRequired, PayloadTooLarge, problem_schema
from src.core.rate_limit import limits
from src.core.routing import ModuleRouter
from src.core.uow import UnitOfWork
from src.dependencies import CurrentIdentity, UoWDep, WritingUoWDep
from src.modules.event_journal import EventType, event_journal
from src.modules.metrics import (
    ConsentBasis,
    HealthConsent,
    HealthPlatform,
    InvalidMetric,
    Measurement,
    MetricSource,
    metrics,
)
from src.modules.profile import profile_service

from .errors import (
    HealthExportTooLarge,
    InvalidHealthExport,
    InvalidHealthValue,
    UnsafeHealthExport,
)
from .recovery import (
    HRV,
    RECENT,
    RECOVERY,
    RESTING_HR,
    SLEEP,
    HealthInsight,
    Recovery,
    current_recovery,
    health_insights,
    is_recent,
    local_midnight,
)

router = ModuleRouter(prefix="/health-sync", tags=["health sync"])

ACCESSED_BY = "health_sync"
STEPS = "steps"
CALORIES = "calories_burned"
WEIGHT = "weight_kg"
BODY_FAT = "body_fat_pct"

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
MAX_SAMPLES = 500
FUTURE_TOLERANCE = timedelta(minutes=5)
OLDEST = datetime(2000, 1, 1, tzinfo=UTC)  # no consumer health device recorded earlier

_ERRORS: dict[int | str, dict[str, Any]] = {code: problem_schema() for code in (401, 422)}
_SYNC_ERRORS: dict[int | str, dict[str, Any]] = {**_ERRORS, 403: problem_schema()}

HealthMetricType = Literal[
    "health_resting_hr", "health_hrv", "sleep_hours", "steps", "calories_burned", "weight_kg", "body_fat_pct"
]


Loc = tuple[str | int, ...]
SYNCED_AT_LOC: Loc = ("body", "synced_at")


def _invalid(loc: Loc, message: str, kind: str) -> InvalidHealthValue:
    where = ".".join(str(part) for part in loc[1:])
    return InvalidHealthValue(
        f"{where}: {message}",
        extra={"field": where, "errors": [{"loc": list(loc), "msg": message, "type": kind}]},
    )


# Sync -----------------------------------------------------------------------------------------


# Numbers only (no booleans or numeric strings), finite; counts are whole numbers within a range
# a float can hold (a huge JSON integer cannot become a float).
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
Count = Annotated[int, Strict(), Field(ge=-(10**12), le=10**12)]


class Reading(BaseModel):
    """A value with the instant it was measured (for a daily total: any instant of that day; for
    sleep: when the person woke up)."""

    model_config = ConfigDict(extra="forbid")

    value: Number
    measured_at: AwareDatetime | None = Field(default=None, description="With its UTC offset; default synced_at")


class StepsReading(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: Count
    measured_at: AwareDatetime | None = Field(default=None, description="With its UTC offset; default synced_at")


def _value_form(given: Any) -> str:
    return "reading" if isinstance(given, dict | Reading | StepsReading) else "number"


# A bare number or {"value", "measured_at"}; the shape picks the branch, so a validation error
# speaks of the form the client used.
Value = Annotated[Annotated[Number, Tag("number")] | Annotated[Reading, Tag("reading")], Discriminator(_value_form)]
StepsValue = Annotated[
    Annotated[Count, Tag("number")] | Annotated[StepsReading, Tag("reading")], Discriminator(_value_form)
]


class Sample(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric_type: HealthMetricType
    value: Number
    measured_at: AwareDatetime


class HealthSyncRequest(BaseModel):
    """Each value is a number (measured at `synced_at`) or `{"value", "measured_at"}`; `samples`
    carries several readings at once. Steps, active calories and sleep are daily totals."""

    resting_heart_rate: Value | None = Field(default=None, description="bpm")
    hrv: Value | None = Field(default=None, description="SDNN, ms")
    sleep_hours: Value | None = Field(default=None, description="hours asleep last night")
    steps: StepsValue | None = Field(default=None, description="steps of the day so far")
    active_calories: Value | None = Field(default=None, description="kcal of the day so far")
    weight_kg: Value | None = Field(default=None, description="kg")
    body_fat_pct: Value | None = Field(default=None, description="%")
    synced_at: AwareDatetime = Field(description="When the device read the values, with its UTC offset")
    samples: list[Sample] | None = Field(default=None, max_length=MAX_SAMPLES)


class HealthSyncResult(BaseModel):
    synced: list[str] = Field(description="Metric types received (stored or already stored)")
    timestamp: AwareDatetime = Field(description="The request's synced_at")
    readings: int = Field(description="Readings received (the same reading twice in one sync counts once)")
    written: int = Field(description="Readings stored as new rows or changing a stored value")
    unchanged: int = Field(description="Readings already stored with the same value (a repeated sync)")


@dataclass(frozen=True)
class _Reading:
    loc: Loc  # where the value is in the request
    metric_type: str
    value: float
    measured_at: datetime


def _check_instant(value: datetime, loc: Loc, now: datetime) -> datetime:
    # Compared before any conversion: converting an instant near year 1 or 9999 could overflow.
    if value > now + FUTURE_TOLERANCE:
        raise _invalid(loc, "must not be in the future", "value_error.future")
    if value.year < OLDEST.year or value < OLDEST:
        raise _invalid(loc, "must not be before 2000", "value_error.too_old")
    return value.astimezone(UTC)


def _readings(body: HealthSyncRequest, now: datetime) -> list[_Reading]:
    synced_at = _check_instant(body.synced_at, SYNCED_AT_LOC, now)
    out: list[_Reading] = []
    for name, metric_type in SYNC_FIELDS.items():
        given: float | Reading | StepsReading | None = getattr(body, name)
        if given is None:
            continue
        if isinstance(given, Reading | StepsReading):
            when = synced_at
            if given.measured_at is not None:
                when = _check_instant(given.measured_at, ("body", name, "measured_at"), now)
            out.append(_Reading(("body", name, "value"), metric_type, float(given.value), when))
        else:
            out.append(_Reading(("body", name), metric_type, float(given), synced_at))
    for index, sample in enumerate(body.samples or ()):
        when = _check_instant(sample.measured_at, ("body", "samples", index, "measured_at"), now)
        value_loc: Loc = ("body", "samples", index, "value")
        if sample.metric_type == STEPS and not sample.value.is_integer():
            raise _invalid(value_loc, "steps are a whole number", "value_error.not_integer")
        out.append(_Reading(value_loc, sample.metric_type, sample.value, when))
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


def _deduplicated(readings: Sequence[_Reading], zone: ZoneInfo) -> list[tuple[_Reading, datetime]]:
    """One reading per stored row. The same value twice is harmless; two different values for the
    same row (e.g. two step totals for one day) are refused rather than one silently dropped."""
    seen: dict[tuple[str, datetime], _Reading] = {}
    out: list[tuple[_Reading, datetime]] = []
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
            raise _invalid(
                reading.loc,
                f"a second, different {reading.metric_type} value for {what} in one sync "
                f"(first given at {'.'.join(str(p) for p in first.loc[1:])}); send one value per "
                + ("day" if reading.metric_type in DAILY_TYPES else "instant"),
                "value_error.duplicate",
            )
    return out


@router.post(
    "",
    response_model=HealthSyncResult,
    status_code=status.HTTP_201_CREATED,
    summary="Store readings from Apple HealthKit / Health Connect (repeating a sync changes nothing)",
    description=(
        "Values are checked against plausible ranges (resting HR 25–220 bpm, HRV 1–300 ms, sleep 0–24 h, steps "
        "0–100 000, active calories 0–20 000 kcal, weight 20–400 kg, body fat 2–75 %); one implausible value "
        "refuses the whole sync with a 422 naming the field, and nothing is stored. Instants need a UTC offset "
        "and may not be more than 5 minutes ahead. Steps, active calories and sleep are daily totals, stored "
        "once per day of your time zone (sleep on the day you woke up). A weight reading counts as a weigh-in "
        "(XP once a day). The first sync records your consent to device sync (basis `first_sync`); after you "
        "withdraw it (PUT /health-sync/consent) a sync answers 403 HEALTH_CONSENT_WITHDRAWN and stores nothing."
    ),
    responses=_SYNC_ERRORS,
)
async def sync(uow: UoWDep, me: CurrentIdentity, body: HealthSyncRequest) -> HealthSyncResult:
    now = uow.now()
    readings = _readings(body, now)
    await metrics(uow).require_health_consent(me.identity_id)
    timezone = await profile_service(uow).timezone_of(me.identity_id)
    zone = ZoneInfo(timezone)
    rows = _deduplicated(readings, zone)
    store = metrics(uow)
    written = unchanged = 0
    for reading, instant in rows:
        try:
            stored = await store.store(
                me.identity_id,
                [measurement(reading.metric_type, reading.value, instant, zone)],
                source=MetricSource.DEVICE_SYNC,
            )
        except InvalidMetric as exc:
            # The request's transaction is rolled back: rows written before this one are undone.
            raise _invalid(reading.loc, exc.detail, "value_error.implausible") from None
        if stored[0].changed:
            written += 1
        else:
            unchanged += 1
    types = [t for t in HEALTH_TYPES if any(r.metric_type == t for r, _ in rows)]
    await event_journal(uow).record(
        me.identity_id,
        EventType.HEALTH_SYNCED,
        metadata={
            "via": "sync",
            "readings": len(rows),
            "written": written,
            "unchanged": unchanged,
            "metric_types": types,
        },
    )
    await current_recovery(uow, me.identity_id, accessed_by=ACCESSED_BY, timezone=timezone)
    return HealthSyncResult(
        synced=types,
        timestamp=body.synced_at.astimezone(UTC),
        readings=len(rows),
        written=written,
        unchanged=unchanged,
    )


# Consent and deletion -------------------------------------------------------------------------


class HealthConsentView(BaseModel):
    status: Literal["not_recorded", "granted", "withdrawn"] = Field(
        description="not_recorded until the first sync or an explicit decision"
    )
    basis: ConsentBasis | None = Field(
        default=None, description="explicit: set through this endpoint; first_sync: recorded with the first sync"
    )
    platform: HealthPlatform | None = None
    policy_version: str | None = Field(default=None, description="The privacy-policy version agreed to")
    granted_at: AwareDatetime | None = None
    withdrawn_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None

    @classmethod
    def of(cls, consent: HealthConsent | None) -> HealthConsentView:
        if consent is None:
            return cls(status="not_recorded")
        return cls(status=consent.status.value, **consent.model_dump(exclude={"status"}))


PolicyVersion = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class HealthConsentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    granted: Annotated[bool, Strict()] = Field(description="true allows device sync, false stops it")
    platform: HealthPlatform | None = Field(default=None, description="Where the data comes from")
    policy_version: PolicyVersion | None = Field(default=None, description="The privacy-policy version shown")


class DeletedHealthData(BaseModel):
    deleted: int = Field(description="Device readings and stored recovery scores deleted")


@router.get("/consent", response_model=HealthConsentView, summary="Your consent to device health sync")
async def get_consent(uow: UoWDep, me: CurrentIdentity) -> HealthConsentView:
    return HealthConsentView.of(await metrics(uow).health_consent(me.identity_id))


@router.put(
    "/consent",
    response_model=HealthConsentView,
    summary="Allow or stop device health sync",
    description=(
        "Records your decision (journalled as health_consent_granted / health_consent_withdrawn). While "
        "consent is withdrawn, syncs and imports answer 403 HEALTH_CONSENT_WITHDRAWN; data already stored stays "
        "until you delete it with DELETE /health-sync/data. Repeating the same decision changes nothing."
    ),
    responses=_ERRORS,
)
async def put_consent(uow: UoWDep, me: CurrentIdentity, body: HealthConsentRequest) -> HealthConsentView:
    consent = await metrics(uow).set_health_consent(
        me.identity_id, granted=body.granted, platform=body.platform, policy_version=body.policy_version
    )
    return HealthConsentView.of(consent)


@router.delete(
    "/data",
    response_model=DeletedHealthData,
    summary="Delete every device health reading (and the recovery scores computed from them)",
    description=(
        "Needs ?confirm=true. Deletes values stored from devices and Apple Health imports (resting heart rate, "
        "HRV, sleep, steps, active calories, weight, body fat) and the daily recovery scores; values you entered "
        "yourself and lab results stay. XP already earned stays. Your consent decision is not changed."
    ),
    responses=_ERRORS,
)
async def delete_device_data(uow: UoWDep, me: CurrentIdentity, confirm: bool = False) -> DeletedHealthData:
    if not confirm:
        raise ConfirmationRequired("Add ?confirm=true to delete all health data synced from your devices")
    store = metrics(uow)
    deleted = await store.delete_by_source(me.identity_id, MetricSource.DEVICE_SYNC)
    deleted += await store.delete_by_source(me.identity_id, MetricSource.CALCULATED, metric_types=(RECOVERY,))
    await event_journal(uow).record(me.identity_id, EventType.HEALTH_DATA_DELETED, metadata={"deleted": deleted})
    return DeletedHealthData(deleted=deleted)


# Status ---------------------------------------------------------------------------------------


class HealthSyncStatus(BaseModel):
    is_connected: bool = Field(description="A device value of any type was measured in the last 72 hours")
    last_sync: AwareDatetime | None = Field(
        description="When device data last reached the server (the last sync or import, even one that changed nothing)"
    )
    last_reading_at: AwareDatetime | None = Field(default=None, description="The newest device reading's instant")
    synced_metrics: list[str] = Field(description="Types whose latest value came from a device in the last 72 hours")
    stale_metrics: list[str] = Field(
        default_factory=list, description="Types whose latest value came from a device longer ago than 72 hours"
    )
    recent_hours: int = Field(default=int(RECENT.total_seconds() // 3600))
    consent: HealthConsentView = Field(description="Your consent to device health sync")


@router.get("/status", response_model=HealthSyncStatus, summary="Whether a device is sending data", responses=_ERRORS)
async def sync_status(uow: WritingUoWDep, me: CurrentIdentity) -> HealthSyncStatus:
    latest = await metrics(uow).latest_values(me.identity_id, HEALTH_TYPES, accessed_by=ACCESSED_BY)
    now = uow.now()
    device = [latest[t] for t in HEALTH_TYPES if t in latest and latest[t].source == MetricSource.DEVICE_SYNC]
    synced = [m.metric_type for m in device if is_recent(m, now)]
    last_synced = await event_journal(uow).last_occurred_at(me.identity_id, EventType.HEALTH_SYNCED)
    return HealthSyncStatus(
        is_connected=bool(synced),
        last_sync=max((t for t in (last_synced, *(m.updated_at for m in device)) if t is not None), default=None),
        last_reading_at=max((m.timestamp for m in device), default=None),
        synced_metrics=synced,
        stale_metrics=[m.metric_type for m in device if not is_recent(m, now)],
        consent=HealthConsentView.of(await metrics(uow).health_consent(me.identity_id)),
    )


# Context --------------------------------------------------------------------------------------


class HealthMetricValue(BaseModel):
    label: str
    value: float
    unit: str
    recorded_at: AwareDatetime
    source: MetricSource
    is_recent: bool = Field(description="Measured in the last 72 hours (only recent values feed insights)")


class HealthContext(BaseModel):
    has_data: bool
    message: str | None = None
    metrics: dict[str, HealthMetricValue] = Field(default_factory=dict)
    insights: list[HealthInsight] = Field(default_factory=list)
    recovery: Recovery | None = Field(
        default=None, description="Today's recovery; null when no recent HRV, sleep or resting heart rate"
    )


CONTEXT_LABELS: dict[str, tuple[str, str]] = {
    RESTING_HR: ("Resting Heart Rate", "bpm"),
    HRV: ("Heart Rate Variability", "ms"),
    SLEEP: ("Sleep Duration", "hours"),
    STEPS: ("Steps Today", "steps"),
}
NO_DATA_MESSAGE = (
    "No health data yet. Connect Apple Health or Health Connect in the app to see insights and your recovery score."
)


@router.get(
    "/context",
    response_model=HealthContext,
    summary="Latest health values, insights and today's recovery score",
    description=(
        "Recovery: 50, HRV 7-day trend up +20 / down −15 (needs 2 readings), sleep ≥ 7.5 h +20 / < 6 h −20, "
        "resting HR ≤ 60 +10 / > 75 −10, clamped to 0–100; ≥ 80 excellent, ≥ 60 good, ≥ 40 moderate, else "
        "needs_rest. Only values of the last 72 hours count. Today's score is kept as the recovery_score metric "
        "(one per day), so it can be trended with /metrics/trend."
    ),
    responses=_ERRORS,
)
async def context(uow: WritingUoWDep, me: CurrentIdentity) -> HealthContext:
    latest = await metrics(uow).latest_values(me.identity_id, tuple(CONTEXT_LABELS), accessed_by=ACCESSED_BY)
    timezone = await profile_service(uow).timezone_of(me.identity_id)
    zone = ZoneInfo(timezone)
    now = uow.now()
    today = now.astimezone(zone).date()
    shown: dict[str, HealthMetricValue] = {}
    for metric_type, (label, unit) in CONTEXT_LABELS.items():
        metric = latest.get(metric_type)
        if metric is None:
            continue
        if metric_type == STEPS and metric.timestamp.astimezone(zone).date() != today:
            continue  # "Steps Today" means today, in the person's time zone
        shown[metric_type] = HealthMetricValue(
            label=label,
            value=metric.value,
            unit=unit,
            recorded_at=metric.timestamp,
            source=metric.source,
            is_recent=is_recent(metric, now),
        )
    if not shown:
        return HealthContext(has_data=False, message=NO_DATA_MESSAGE)
    today_recovery = await current_recovery(
        uow, me.identity_id, accessed_by=ACCESSED_BY, latest=latest, timezone=timezone
    )
    insights = health_insights(
        hrv=today_recovery.hrv_ms, sleep_hours=today_recovery.sleep_hours, resting_hr=today_recovery.resting_hr
    )
    return HealthContext(has_data=True, metrics=shown, insights=insights, recovery=today_recovery.recovery)


# Apple Health export --------------------------------------------------------------------------

APPLE_TYPES: dict[str, str] = {
    "HKQuantityTypeIdentifierRestingHeartRate": RESTING_HR,
    "HKQuantityTypeIdentifierHeartRateVariabilitySDNN": HRV,
    "HKQuantityTypeIdentifierStepCount": STEPS,
    "HKQuantityTypeIdentifierActiveEnergyBurned": CALORIES,
    "HKQuantityTypeIdentifierBodyMass": WEIGHT,
    "HKQuantityTypeIdentifierBodyFatPercentage": BODY_FAT,
    "HKCategoryTypeIdentifierSleepAnalysis": SLEEP,
}
ASLEEP_VALUES = frozenset(
    {
        "HKCategoryValueSleepAnalysisAsleep",
        "HKCategoryValueSleepAnalysisAsleepUnspecified",
        "HKCategoryValueSleepAnalysisAsleepCore",
        "HKCategoryValueSleepAnalysisAsleepDeep",
        "HKCategoryValueSleepAnalysisAsleepREM",
    }
)
# Unit of the export -> factor to the stored unit.
APPLE_UNITS: dict[str, dict[str, float]] = {
    RESTING_HR: {"count/min": 1.0},
    HRV: {"ms": 1.0},
    STEPS: {"count": 1.0},
    CALORIES: {"kcal": 1.0, "Cal": 1.0, "kJ": 1 / 4.184},
    WEIGHT: {"kg": 1.0, "g": 0.001, "lb": 0.45359237, "st": 6.35029318},
    BODY_FAT: {"%": 100.0},  # exported as a fraction (0.22 = 22 %)
}
DAILY_ROUNDING = {STEPS: 0, CALORIES: 1, SLEEP: 2}
APPLE_DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"  # 2024-03-01 07:15:00 +0100
EXPORT_MEMBER = "apple_health_export/export.xml"
CHUNK_BYTES = 64 * 1024
# An archive may expand to at most this multiple of the upload limit (zip bombs); real exports
# compress 10-20 times.
MAX_EXPANSION = 40
# Point readings kept from one export (daily totals are bounded by the number of days).
MAX_POINT_READINGS = 100_000
MAX_SLEEP_SEGMENTS = 200_000  # per source; a night with sleep stages has a few dozen
SLEEP_BREAK = timedelta(hours=3)  # a longer time awake ends a sleep (a nap later is a sleep of its own)
HOUR = timedelta(hours=1)


class ImportCounts(BaseModel):
    records: int = Field(default=0, description="Records of this type read from the export")
    imported: int = Field(default=0, description="Values stored as new rows or changing a stored value")
    unchanged: int = Field(default=0, description="Values already stored (a repeated import)")
    skipped: int = Field(
        default=0, description="Records (or, for daily totals, days) left out: implausible, unreadable or in the future"
    )


class AppleHealthImport(BaseModel):
    imported: int
    unchanged: int
    skipped: int
    types: dict[str, ImportCounts] = Field(description="Counts per metric type")
    first_day: date | None = Field(default=None, description="Earliest day with an imported value (your time zone)")
    last_day: date | None = Field(default=None, description="Latest day with an imported value (your time zone)")


@dataclass
class ParsedExport:
    """What an export holds, reduced to the rows to store: daily totals per type and day, point
    readings per type and instant."""

    values: list[tuple[str, datetime, float]] = field(default_factory=list)
    records: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)


class _ExportReader:
    """SAX-style handlers for the expat parser: only top-level `<Record>` elements of the mapped
    types are looked at, and only their attributes; nothing of the document is kept."""

    def __init__(self, zone: ZoneInfo, now: datetime) -> None:
        self.zone = zone
        self.latest_allowed = now + FUTURE_TOLERANCE
        self.depth = 0
        self.root_seen = False
        # (metric type, local day, source) -> total of that source on that day
        self.daily: dict[tuple[str, date, str], float] = {}
        self.points: dict[tuple[str, datetime], float] = {}
        # source -> asleep segments (sleep stages), put together into nights at the end
        self.sleep: dict[str, list[tuple[datetime, datetime]]] = {}
        self.records: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth == 1:
            if name != "HealthData":
                raise InvalidHealthExport("This is not an Apple Health export (export.xml with a HealthData root)")
            self.root_seen = True
            return
        if self.depth != 2 or name != "Record":
            return  # records nested in correlations repeat top-level ones
        metric_type = APPLE_TYPES.get(attrs.get("type", ""))
        if metric_type is None:
            return
        self.records[metric_type] += 1
        try:
            if not self._record(metric_type, attrs):
                self.skipped[metric_type] += 1
        except (KeyError, ValueError, OverflowError):
            self.skipped[metric_type] += 1

    def end(self, _name: str) -> None:
        self.depth -= 1

    def _record(self, metric_type: str, attrs: dict[str, str]) -> bool:
        start = _apple_date(attrs["startDate"])
        end = _apple_date(attrs.get("endDate") or attrs["startDate"])
        if end < start or end > self.latest_allowed:
            return False
        source = attrs.get("sourceName", "")[:200]
        if metric_type == SLEEP:
            if attrs.get("value") not in ASLEEP_VALUES:
                return True  # in bed / awake: not sleep, nothing to count
            segments = self.sleep.setdefault(source, [])
            if len(segments) >= MAX_SLEEP_SEGMENTS:
                return False
            segments.append((start.astimezone(UTC), end.astimezone(UTC)))
            return True
        factor = APPLE_UNITS[metric_type].get(attrs.get("unit", ""))
        if factor is None:
            return False
        value = float(attrs["value"]) * factor
        if not math.isfinite(value) or value < 0:
            return False
        if metric_type in DAILY_TYPES:
            self._add_daily(metric_type, start.astimezone(self.zone).date(), source, value)
            return True
        key = (metric_type, start.astimezone(UTC))
        if key not in self.points and len(self.points) >= MAX_POINT_READINGS:
            return False
        self.points[key] = round(value, 4)
        return True

    def _add_daily(self, metric_type: str, day: date, source: str, value: float) -> None:
        key = (metric_type, day, source)
        self.daily[key] = self.daily.get(key, 0.0) + value

    def _add_sleep(self) -> None:
        """Each source's asleep segments, joined into sleeps (segments less than `SLEEP_BREAK`
        apart belong to one sleep), count on the day the sleep ended: a night's stages before and
        after midnight are one night, on the day the person woke up. Overlapping segments of one
        source (a plain "asleep" record beside stage records) are counted once."""
        for source, segments in self.sleep.items():
            segments.sort()
            ended: datetime | None = None
            asleep = timedelta(0)
            for start, end in segments:
                if ended is not None and start - ended > SLEEP_BREAK:
                    self._add_daily(SLEEP, ended.astimezone(self.zone).date(), source, asleep / HOUR)
                    ended, asleep = None, timedelta(0)
                covered = start if ended is None else max(start, ended)
                asleep += max(end - covered, timedelta(0))
                ended = end if ended is None else max(ended, end)
            if ended is not None:
                self._add_daily(SLEEP, ended.astimezone(self.zone).date(), source, asleep / HOUR)

    def result(self) -> ParsedExport:
        self._add_sleep()
        # Several sources (a phone and a watch) count the same steps: per day, the source that
        # counted most stands for the day, instead of the sum of all of them.
        best: dict[tuple[str, date], float] = {}
        for (metric_type, day, _source), total in self.daily.items():
            best[(metric_type, day)] = max(best.get((metric_type, day), 0.0), total)
        parsed = ParsedExport(records=self.records, skipped=self.skipped)
        for (metric_type, day), total in sorted(best.items()):
            parsed.values.append(
                (metric_type, local_midnight(day, self.zone), round(total, DAILY_ROUNDING[metric_type]))
            )
        parsed.values.extend((t, instant, value) for (t, instant), value in sorted(self.points.items()))
        return parsed


def _apple_date(text: str) -> datetime:
    value = datetime.strptime(text.strip(), APPLE_DATE_FORMAT)
    if value.year < OLDEST.year:
        raise ValueError("before 2000")
    return value


def _refuse_entities(*_args: object) -> NoReturn:
    raise UnsafeHealthExport("The file declares XML entities, which an Apple Health export never does; refused")


def _open_export(upload: IO[bytes]) -> tuple[IO[bytes], zipfile.ZipFile | None]:
    """The export.xml stream: the upload itself, or the member of an uploaded .zip archive."""
    upload.seek(0)
    if not zipfile.is_zipfile(upload):
        upload.seek(0)
        return upload, None
    upload.seek(0)
    archive = zipfile.ZipFile(upload)
    names = [info for info in archive.infolist() if not info.is_dir()]
    member = next((i for i in names if i.filename == EXPORT_MEMBER), None) or next(
        (i for i in names if i.filename.rsplit("/", 1)[-1] == "export.xml"), None
    )
    if member is None:
        archive.close()
        raise InvalidHealthExport(f"The archive holds no {EXPORT_MEMBER}")
    return archive.open(member), archive


def parse_apple_health_export(upload: IO[bytes], *, zone: ZoneInfo, now: datetime, max_bytes: int) -> ParsedExport:
    """Stream an Apple Health export.xml (or a .zip holding it) through expat. Blocking: run it in
    a worker thread. Entity declarations (billion laughs, external entities) are refused; Apple's
    own DOCTYPE with element and attribute declarations is fine."""
    reader = _ExportReader(zone, now)
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = _refuse_entities
    parser.UnparsedEntityDeclHandler = _refuse_entities
    parser.ExternalEntityRefHandler = _refuse_entities
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    archive: zipfile.ZipFile | None = None
    try:
        stream, archive = _open_export(upload)
        total = 0
        while chunk := stream.read(CHUNK_BYTES):
            total += len(chunk)
            if total > max_bytes:
                raise HealthExportTooLarge(f"export.xml is larger than {max_bytes} bytes")
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        raise InvalidHealthExport(
            f"The file is not a readable export.xml (XML error at line {exc.lineno}: {expat.ErrorString(exc.code)})"
        ) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError) as exc:
        # Damaged, encrypted or oddly compressed archives.
        raise InvalidHealthExport(f"The archive cannot be read ({type(exc).__name__})") from None
    finally:
        if archive is not None:
            archive.close()
    if not reader.root_seen:
        raise InvalidHealthExport("The file holds no Apple Health data")
    return reader.result()


async def _store_export(
    uow: UnitOfWork, identity_id: UUID, parsed: ParsedExport, zone: ZoneInfo
) -> dict[str, ImportCounts]:
    counts = {t: ImportCounts(records=parsed.records[t], skipped=parsed.skipped[t]) for t in HEALTH_TYPES}
    store = metrics(uow)
    for metric_type, instant, value in parsed.values:
        counted = counts[metric_type]
        try:
            stored = await store.store(
                identity_id,
                [measurement(metric_type, value, instant, zone)],
                source=MetricSource.DEVICE_SYNC,
                record_events=False,  # one health_synced event for the whole import
            )
        except InvalidMetric:
            counted.skipped += 1  # a single measurement is validated before anything is written
            continue
        if stored[0].changed:
            counted.imported += 1
        else:
            counted.unchanged += 1
    return counts


def _day_range(values: Sequence[tuple[str, datetime, float]], zone: ZoneInfo) -> tuple[date | None, date | None]:
    days = [instant.astimezone(zone).date() for _, instant, _ in values]
    return (min(days), max(days)) if days else (None, None)


@router.post(
    "/import/apple-health",
    response_model=AppleHealthImport,
    summary="Import an Apple Health export (export.xml, or the export .zip)",
    description=(
        "Reads resting heart rate, HRV (SDNN), steps and active energy (totals per day of your time zone), body "
        "mass (lb converted to kg), body fat percentage and sleep (asleep time per night, on the day you woke "
        "up). Implausible or unreadable records are skipped and counted. Importing the same export again changes "
        "nothing. Files declaring XML entities are refused. Like a sync, refused with 403 after you withdrew "
        "consent to device health sync."
    ),
    responses={**_SYNC_ERRORS, 413: problem_schema(), 429: problem_schema()},
    openapi_extra=limits("UPLOAD"),
)
async def import_apple_health(
    uow: UoWDep,
    me: CurrentIdentity,
    file: Annotated[UploadFile, File(description="export.xml or the export .zip from the Health app")],
) -> AppleHealthImport:
    # The multipart parser has already streamed the upload to a temporary file (the request body
    # is bounded by the upload envelope); it is parsed from there in a worker thread.
    limit = uow.settings.max_upload_bytes
    if file.size is not None and file.size > limit:
        raise PayloadTooLarge(f"The export is larger than {limit // 1_048_576} MB; export a shorter period.")
    store = metrics(uow)
    await store.require_health_consent(me.identity_id, record=False)  # refuse before the slow part
    timezone = await profile_service(uow).timezone_of(me.identity_id)
    zone = ZoneInfo(timezone)
    now = uow.now()
    # The reads above end here: no transaction (nor SQLite's write lock) is held while the export
    # is parsed; the writes below run in one transaction of their own.
    await uow.release()
    parsed = await asyncio.to_thread(
        parse_apple_health_export,
        file.file,
        zone=zone,
        now=now,
        max_bytes=uow.settings.max_upload_bytes * MAX_EXPANSION,
    )
    await store.require_health_consent(me.identity_id, platform=HealthPlatform.APPLE_HEALTH)
    counts = await _store_export(uow, me.identity_id, parsed, zone)
    present = {t: c for t, c in counts.items() if c.records or c.imported or c.unchanged or c.skipped}
    imported = sum(c.imported for c in counts.values())
    unchanged = sum(c.unchanged for c in counts.values())
    skipped = sum(c.skipped for c in counts.values())
    await event_journal(uow).record(
        me.identity_id,
        EventType.HEALTH_SYNCED,
        metadata={
            "via": "apple_health_export",
            "readings": len(parsed.values),
            "written": imported,
            "unchanged": unchanged,
            "skipped": skipped,
            "metric_types": list(present),
        },
    )
    await current_recovery(uow, me.identity_id, accessed_by=ACCESSED_BY, timezone=timezone)
    first_day, last_day = _day_range(parsed.values, zone)
    return AppleHealthImport(
        imported=imported,
        unchanged=unchanged,
        skipped=skipped,
        types=present,
        first_day=first_day,
        last_day=last_day,
    )
