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
        MetricTypeInfo(MetricType.BODY_TEMPERATURE, "°C", 30, 45, "Body temperature"),
        MetricTypeInfo(MetricType.RECOVERY_SCORE, "score", 0, 100, "Recovery score"),
    )
}
# Computed by the server from other data: never written through `POST /metrics`.
DERIVED = frozenset({MetricType.RECOVERY_SCORE})

# Accepted spellings of units (lower case, spaces removed) → canonical spelling.
_UNIT_SPELLINGS: dict[str, str] = {
    **dict.fromkeys(("kg", "kgs", "kilogram", "kilograms"), "kg"),
    **dict.fromkeys(("lb", "lbs", "pound", "pounds"), "lb"),
    **dict.fromkeys(("st", "stone"), "st"),
    **dict.fromkeys(("g", "gram", "grams"), "g"),
    **dict.fromkeys(("cm", "centimeter", "centimeters", "centimetre", "centimetres"), "cm"),
    **dict.fromkeys(("in", "inch", "inches", '"'), "in"),
    **dict.fromkeys(("mm",), "mm"),
    **dict.fromkeys(("m",), "m"),
    **dict.fromkeys(("ft", "foot", "feet"), "ft"),
    **dict.fromkeys(("ml", "milliliter", "milliliters", "millilitre", "millilitres"), "ml"),
    **dict.fromkeys(("l", "liter", "liters", "litre", "litres"), "l"),
    **dict.fromkeys(("oz", "floz", "fl.oz", "fl_oz", "ounce", "ounces"), "oz"),
    **dict.fromkeys(("kcal", "cal", "calories", "kilocalories"), "kcal"),
    **dict.fromkeys(("kj", "kilojoule", "kilojoules"), "kj"),
    **dict.fromkeys(("count", "steps"), "count"),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), "min"),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hours"),
    **dict.fromkeys(("%", "pct", "percent"), "%"),
    **dict.fromkeys(("bpm", "/min", "beats/min", "count/min"), "bpm"),
    **dict.fromkeys(("ms", "millisecond", "milliseconds"), "ms"),
    **dict.fromkeys(("mmol/l", "mmol"), "mmol/L"),
    **dict.fromkeys(("mg/dl",), "mg/dL"),
    **dict.fromkeys(("°c", "c", "degc", "celsius"), "°C"),
    **dict.fromkeys(("°f", "f", "degf", "fahrenheit"), "°F"),
    **dict.fromkeys(("score",), "score"),
}
# (canonical unit, other unit) → (factor, offset): canonical = value · factor + offset.
_UNIT_CONVERSIONS: dict[tuple[str, str], tuple[float, float]] = {
    ("kg", "lb"): (LBS_TO_KG, 0.0),
    ("kg", "st"): (14 * LBS_TO_KG, 0.0),
    ("kg", "g"): (0.001, 0.0),
    ("kg", "oz"): (LBS_TO_KG / 16, 0.0),
    ("cm", "in"): (2.54, 0.0),
    ("cm", "mm"): (0.1, 0.0),
    ("cm", "m"): (100.0, 0.0),
    ("cm", "ft"): (30.48, 0.0),
    ("ml", "l"): (1000.0, 0.0),
    ("ml", "oz"): (29.5735295625, 0.0),
    ("kcal", "kj"): (1 / 4.184, 0.0),
    ("hours", "min"): (1 / 60, 0.0),
    ("min", "hours"): (60.0, 0.0),
    ("°C", "°F"): (5 / 9, -32 * 5 / 9),
}
# Glucose: 1 mmol/L = 18.016 mg/dL (molar mass 180.16 g/mol).
_TYPE_CONVERSIONS: dict[tuple[str, str], tuple[float, float]] = {
    ("blood_glucose_mmol", "mg/dL"): (1 / 18.016, 0.0),
}
# What `unit_system=imperial` shows for a canonical unit.
IMPERIAL: dict[str, str] = {"kg": "lb", "cm": "in", "ml": "oz", "°C": "°F"}
_DISPLAY_DECIMALS = 1
# Imperial (or alternative) input: stored as the metric type on the right, converted.
CONVERSIONS: dict[str, tuple[str, float]] = {
    "weight_lbs": (MetricType.WEIGHT, LBS_TO_KG),
    "weight_lb": (MetricType.WEIGHT, LBS_TO_KG),
    "muscle_mass_lbs": (MetricType.MUSCLE_MASS, LBS_TO_KG),
    "waist_in": (MetricType.WAIST, 2.54),
    "water_oz": (MetricType.WATER, 29.5735),
}
_IMPLIED_UNIT = {"weight_lbs": "lb", "weight_lb": "lb", "muscle_mass_lbs": "lb", "waist_in": "in", "water_oz": "oz"}


class MetricTypeError(ValueError):
    pass


def stored_type(metric_type: str) -> str:
    """The type a read looks for: an imperial name reads the type its values are stored as
    (`weight_lbs` reads `weight_kg`, in kg)."""
    metric_type = metric_type.strip().lower()
    return CONVERSIONS[metric_type][0] if metric_type in CONVERSIONS else metric_type


def unit_spelling(unit: str) -> str | None:
    """The canonical spelling of a unit (`LBS` → `lb`, `°f` → `°F`), or None when unknown."""
    return _UNIT_SPELLINGS.get("".join(unit.split()).lower())


def _factor(metric_type: str, stored_unit: str, unit: str) -> tuple[float, float] | None:
    if unit == stored_unit:
        return (1.0, 0.0)
    return _TYPE_CONVERSIONS.get((metric_type, unit)) or _UNIT_CONVERSIONS.get((stored_unit, unit))


def to_stored_unit(metric_type: str, value: float, unit: str | None) -> float:
    """A value of a known type given in `unit`, in the type's own unit; raises MetricTypeError
    when the unit is not one the type can be given in. Unknown types keep their value."""
    info = KNOWN.get(metric_type)
    if info is None or unit is None or not unit.strip():
        return value
    spelled = unit_spelling(unit)
    conversion = _factor(metric_type, info.unit, spelled) if spelled else None
    if conversion is None:
        accepted = sorted(
            {info.unit, *(u for (t, u) in _TYPE_CONVERSIONS if t == metric_type)}
            | {u for (c, u) in _UNIT_CONVERSIONS if c == info.unit}
        )
        raise MetricTypeError(f"{metric_type} cannot be given in {unit!r}: use one of {', '.join(accepted)}")
    factor, offset = conversion
    return round(value * factor + offset, 4)


def display(metric_type: str, value: float, unit: str) -> tuple[float, str]:
    """A stored value of a known type shown in another unit (rounded for reading: 82.0 kg →
    180.8 lb); raises MetricTypeError when the type has no such unit."""
    info = KNOWN.get(metric_type)
    spelled = unit_spelling(unit)
    if info is None or spelled is None:
        raise MetricTypeError(f"{metric_type} cannot be shown in {unit!r}")
    if spelled == info.unit:
        return value, info.unit
    conversion = _factor(metric_type, info.unit, spelled)
    if conversion is None:
        raise MetricTypeError(f"{metric_type} cannot be shown in {unit!r}")
    factor, offset = conversion
    return round((value - offset) / factor, _DISPLAY_DECIMALS), spelled


def canonical(metric_type: str, value: float, unit: str | None = None) -> tuple[str, float, MetricTypeInfo | None]:
    """(stored type, stored value, info) for an incoming measurement, converted to the type's own
    unit (from an imperial type name such as weight_lbs, or from `unit`); raises MetricTypeError
    with a message for the client when the type or unit is unknown or the value implausible."""
    metric_type = metric_type.strip().lower()
    if not math.isfinite(value):
        raise MetricTypeError("value must be a finite number")
    if metric_type in CONVERSIONS:
        stored, factor = CONVERSIONS[metric_type]
        implied = _IMPLIED_UNIT[metric_type]
        if unit is not None and unit.strip() and unit_spelling(unit) != implied:
            raise MetricTypeError(f"{metric_type} values are in {implied}, not {unit!r}")
        metric_type, value, unit = stored, round(value * factor, 4), None
    value = to_stored_unit(metric_type, value, unit)
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
