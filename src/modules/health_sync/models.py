"""What the health sync endpoints receive and answer."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Discriminator, Field, Strict, Tag

from src.core.validation import RequestBody
from src.modules.metrics import MetricSource

from .recovery import RECENT, HealthInsight, Recovery

MAX_SAMPLES = 500


class ConsentStatus(StrEnum):
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


class ConsentBasis(StrEnum):
    EXPLICIT = "explicit"  # given or withdrawn by the person through the consent endpoint
    FIRST_SYNC = "first_sync"  # the app sent device data after the OS permission prompt; recorded then


class HealthPlatform(StrEnum):
    APPLE_HEALTH = "apple_health"
    HEALTH_CONNECT = "health_connect"


class HealthConsent(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: ConsentStatus
    basis: ConsentBasis
    platform: HealthPlatform | None = None
    policy_version: str | None = None
    granted_at: AwareDatetime | None = None
    withdrawn_at: AwareDatetime | None = None
    updated_at: AwareDatetime


HealthMetricType = Literal[
    "health_resting_hr", "health_hrv", "sleep_hours", "steps", "calories_burned", "weight_kg", "body_fat_pct"
]

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


class HealthSyncRequest(RequestBody):
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
