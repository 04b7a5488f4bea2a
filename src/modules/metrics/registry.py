"""Known metric types: unit, plausible range, label, and how imperial input converts.

Unknown types are refused, except under the `custom_` prefix (user-defined series) and
`biomarker_<name>` (lab results, snake_case names from the standardised-name table or new ones).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from .models import MetricType

BIOMARKER_PREFIX = "biomarker_"
CUSTOM_PREFIX = "custom_"
_SNAKE = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
LBS_TO_KG = 0.45359237


@dataclass(frozen=True)
class MetricTypeInfo:
    name: str
    unit: str
    minimum: float
    maximum: float
    label: str
    health: bool = True  # health data: never logged, reads by other modules are audited


KNOWN: dict[str, MetricTypeInfo] = {
    info.name: info
    for info in (
        MetricTypeInfo(MetricType.WEIGHT, "kg", 20, 400, "Weight"),
        MetricTypeInfo(MetricType.BODY_FAT, "%", 2, 75, "Body fat"),
        MetricTypeInfo(MetricType.MUSCLE_MASS, "kg", 5, 200, "Muscle mass"),
        MetricTypeInfo(MetricType.WAIST, "cm", 30, 300, "Waist"),
        MetricTypeInfo(MetricType.WATER, "ml", 0, 10_000, "Water"),
        MetricTypeInfo(MetricType.CALORIES_CONSUMED, "kcal", 0, 20_000, "Calories eaten"),
        MetricTypeInfo(MetricType.CALORIES_BURNED, "kcal", 0, 20_000, "Active calories"),
        MetricTypeInfo(MetricType.STEPS, "count", 0, 100_000, "Steps"),
        MetricTypeInfo(MetricType.WORKOUT_MINUTES, "min", 0, 1_440, "Workout minutes"),
        MetricTypeInfo(MetricType.FASTING_HOURS, "hours", 0, 240, "Fasting hours"),
        MetricTypeInfo(MetricType.SLEEP, "hours", 0, 24, "Sleep"),
        MetricTypeInfo(MetricType.RESTING_HR, "bpm", 25, 220, "Resting heart rate"),
        MetricTypeInfo(MetricType.HRV, "ms", 1, 300, "Heart rate variability"),
        MetricTypeInfo(MetricType.BLOOD_GLUCOSE, "mmol/L", 1, 40, "Blood glucose"),
        MetricTypeInfo(MetricType.KETONES, "mmol/L", 0, 10, "Blood ketones"),
        MetricTypeInfo(MetricType.RECOVERY_SCORE, "score", 0, 100, "Recovery score"),
    )
}
# Imperial (or alternative) input: stored as the metric type on the right, converted.
CONVERSIONS: dict[str, tuple[str, float]] = {
    "weight_lbs": (MetricType.WEIGHT, LBS_TO_KG),
    "weight_lb": (MetricType.WEIGHT, LBS_TO_KG),
    "muscle_mass_lbs": (MetricType.MUSCLE_MASS, LBS_TO_KG),
    "waist_in": (MetricType.WAIST, 2.54),
    "water_oz": (MetricType.WATER, 29.5735),
}


class MetricTypeError(ValueError):
    pass


def stored_type(metric_type: str) -> str:
    """The type a read looks for: an imperial name reads the type its values are stored as
    (`weight_lbs` reads `weight_kg`, in kg)."""
    metric_type = metric_type.strip().lower()
    return CONVERSIONS[metric_type][0] if metric_type in CONVERSIONS else metric_type


def canonical(metric_type: str, value: float) -> tuple[str, float, MetricTypeInfo | None]:
    """(stored type, stored value, info) for an incoming measurement; raises MetricTypeError with
    a message for the client when the type is unknown or the value implausible."""
    metric_type = metric_type.strip().lower()
    if not math.isfinite(value):
        raise MetricTypeError("value must be a finite number")
    if metric_type in CONVERSIONS:
        metric_type, value = stored_type(metric_type), round(value * CONVERSIONS[metric_type][1], 4)
    info = KNOWN.get(metric_type)
    if info is not None:
        if not info.minimum <= value <= info.maximum:
            raise MetricTypeError(f"{metric_type} must be between {info.minimum:g} and {info.maximum:g} {info.unit}")
        return metric_type, value, info
    if metric_type.startswith(BIOMARKER_PREFIX):
        if not _SNAKE.match(metric_type[len(BIOMARKER_PREFIX) :]):
            raise MetricTypeError("biomarker names are snake_case, e.g. biomarker_ldl_cholesterol")
        if not 0 <= value <= 1_000_000:
            raise MetricTypeError("biomarker values must be between 0 and 1 000 000")
        return metric_type, value, None
    if metric_type.startswith(CUSTOM_PREFIX):
        if not _SNAKE.match(metric_type[len(CUSTOM_PREFIX) :]):
            raise MetricTypeError("custom metric names are snake_case, e.g. custom_meditation_minutes")
        if abs(value) > 1e9:
            raise MetricTypeError("custom metric values must be within ±1 000 000 000")
        return metric_type, value, None
    known = ", ".join(sorted([*KNOWN, *CONVERSIONS]))
    raise MetricTypeError(f"unknown metric type {metric_type!r}: use one of {known}, or a custom_ or biomarker_ name")


def default_unit(metric_type: str) -> str | None:
    info = KNOWN.get(metric_type)
    return info.unit if info else None


def is_weight(metric_type: str) -> bool:
    return metric_type == MetricType.WEIGHT
