from __future__ import annotations

import math
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from src.core.types import ExactScalars
from src.core.validation import storable_text


class MetricType(StrEnum):
    """The known metric types, as stored. Lab results (`biomarker_<name>`) and person-defined
    series (`custom_<name>`) are open-ended and not listed; imperial input names (`weight_lbs`)
    are converted to these on the way in."""

    WEIGHT = "weight_kg"
    BODY_FAT = "body_fat_pct"
    MUSCLE_MASS = "muscle_mass_kg"
    WAIST = "waist_cm"
    WATER = "water_ml"
    CALORIES_CONSUMED = "calories_consumed"
    CALORIES_BURNED = "calories_burned"
    STEPS = "steps"
    WORKOUT_MINUTES = "workout_minutes"
    FASTING_HOURS = "fasting_hours"
    SLEEP = "sleep_hours"
    RESTING_HR = "health_resting_hr"
    HRV = "health_hrv"
    BLOOD_GLUCOSE = "blood_glucose_mmol"
    KETONES = "ketones_mmol"
    BODY_TEMPERATURE = "body_temperature_c"
    RECOVERY_SCORE = "recovery_score"


class MetricSource(StrEnum):
    USER_INPUT = "user_input"
    CALCULATED = "calculated"
    DEVICE_SYNC = "device_sync"
    LAB_REPORT = "lab_report"
    FHIR_IMPORT = "fhir_import"  # lab results imported from a FHIR Bundle or Observation


CLIENT_SOURCES = (MetricSource.USER_INPUT, MetricSource.DEVICE_SYNC)


class BiomarkerFlag(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    ABNORMAL = "abnormal"


OUT_OF_RANGE = (BiomarkerFlag.LOW, BiomarkerFlag.HIGH, BiomarkerFlag.ABNORMAL)


def _finite_or_none(value: float | None) -> float | None:
    if value is not None and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _utc_instant(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        return value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValueError("datetime out of range") from exc


class _MetricInput(ExactScalars):
    @field_validator("*", mode="after")
    @classmethod
    def _text_is_storable(cls, value: Any) -> Any:
        return storable_text(value) if isinstance(value, str) else value

    @field_validator("reference_low", "reference_high", mode="after", check_fields=False)
    @classmethod
    def _reference_is_finite(cls, value: float | None) -> float | None:
        return _finite_or_none(value)


class Metric(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    identity_id: UUID
    metric_type: str
    value: float
    value_text: str | None = Field(default=None, description="The value as written, e.g. '<0.5'")
    timestamp: AwareDatetime
    day: date | None = Field(default=None, description="For a daily total (steps, sleep…): the local day it totals")
    source: MetricSource
    note: str | None = None
    unit: str | None = None
    reference_low: float | None = None
    reference_high: float | None = None
    flag: BiomarkerFlag | None = None
    original_value: float | None = Field(
        default=None, description="Lab results: the value as printed, before conversion to the series' unit"
    )
    original_unit: str | None = Field(default=None, description="Lab results: the unit as printed")
    created_at: AwareDatetime
    updated_at: AwareDatetime


class RecordMetricRequest(_MetricInput):
    metric_type: str = Field(
        min_length=1,
        max_length=100,
        description="A known type (weight_kg, body_fat_pct, steps, sleep_hours, …), imperial input such as "
        "weight_lbs (stored as weight_kg), or a custom_/biomarker_ name",
    )
    value: float
    timestamp: AwareDatetime | None = Field(default=None, description="With its UTC offset; default now")
    source: MetricSource = MetricSource.USER_INPUT
    note: str | None = Field(default=None, max_length=1000)
    unit: str | None = Field(default=None, max_length=50)
    reference_low: float | None = None
    reference_high: float | None = None
    flag: BiomarkerFlag | None = None

    @field_validator("timestamp", mode="after")
    @classmethod
    def _timestamp_in_range(cls, value: datetime | None) -> datetime | None:
        return _utc_instant(value)


class UpdateMetricRequest(_MetricInput):
    """Fields sent are changed; `null` clears an optional field."""

    value: float | None = None
    unit: str | None = Field(default=None, max_length=50)
    reference_low: float | None = None
    reference_high: float | None = None
    flag: BiomarkerFlag | None = None
    note: str | None = Field(default=None, max_length=1000)


class MetricTrend(BaseModel):
    direction: Literal["up", "down", "stable"] = Field(
        description="From the least-squares line through the period's days (each day with readings is one point, "
        "so many readings on one day weigh as one): stable within ±1 %"
    )
    change_absolute: float = Field(description="Change over the period along the least-squares line")
    change_percent: float
    slope_per_day: float
    period_days: int
    start_value: float = Field(description="The first real reading of the period")
    end_value: float = Field(description="The last real reading of the period")
    fitted_start_value: float = Field(description="The least-squares line's value at the first reading")
    fitted_end_value: float = Field(description="The least-squares line's value at the last reading")
    first_value: float = Field(description="Same as start_value (kept for older clients)")
    last_value: float = Field(description="Same as end_value (kept for older clients)")
    data_points: int = Field(description="Readings in the period")


class MetricAggregate(BaseModel):
    metric_type: str
    operation: Literal["sum", "avg", "min", "max", "count"]
    value: float
    period_start: AwareDatetime | None
    period_end: AwareDatetime | None
    data_points: int


class MetricSummary(BaseModel):
    metric_type: str
    unit: str | None = Field(default=None, description="The unit of the values (the type's own unless asked for)")
    latest_value: float | None = None
    latest_timestamp: AwareDatetime | None = None
    min_value: float | None = None
    max_value: float | None = None
    avg_value: float | None = None
    total_entries: int


class BiomarkerTestGroup(BaseModel):
    test_date: date = Field(description="The test's date in your time zone")
    biomarker_count: int
    normal_count: int
    abnormal_count: int = Field(description="Flagged low, high or abnormal (unflagged results are not counted)")
    unflagged_count: int
    biomarkers: list[Metric]


class BulkDeleteResult(BaseModel):
    deleted: int


class RecordedMetric(Metric):
    """A recorded metric and, for weight logs, what it earned."""

    xp_earned: int = Field(default=0, description="base_xp + streak_bonus_xp + achievement_xp")
    base_xp: int = Field(default=0, description="The weigh-in's own XP (10, once a day)")
    streak_bonus_xp: int = 0
    achievement_xp: int = 0
    credited: bool = False
    credit_reason: str | None = None
