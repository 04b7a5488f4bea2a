"""Lab results in one unit per analyte.

Every `biomarker_<key>` series is stored in one canonical unit, written as a UCUM code
(https://ucum.org): glucose and lipids in mmol/L, haemoglobin in g/L, creatinine in umol/L,
HbA1c in mmol/mol (IFCC), and so on (`CANONICAL` below). A result printed in another unit the
table knows is converted on the way in (value and reference range); the value and unit as printed
are kept beside it (`original_value`, `original_unit`). A result whose unit the table does not
know for that analyte is never guessed at: it keeps a series of its own, named after the unit
(`biomarker_glucose_mg_pct` for "mg%"), so one series never mixes units.

Printed units are read into UCUM codes by `ucum_code` (case, "µ"/"mc" for micro, `x10^9/L`,
`K/uL`, `mEq/L`, `IU` spellings). Analytes the table does not list keep the printed unit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Conversion:
    """canonical = value * factor + offset."""

    factor: float
    offset: float = 0.0

    def apply(self, value: float) -> float:
        return value * self.factor + self.offset


# The canonical unit of each analyte (by the metric type's key after `biomarker_`) and how the
# other units labs print convert to it. Molar masses: glucose 180.16, cholesterol 386.65,
# triglycerides (as triolein) 885.7, creatinine 113.12, testosterone 288.42, 25-OH vitamin D
# 400.6 (2.496 nmol per ng), cobalamin 1355.4, haemoglobin monomer 16 114.5 g/mol.
# HbA1c: IFCC mmol/mol = 10.929 * (NGSP % - 2.152) (the IFCC-NGSP master equation).
_SAME = Conversion(1.0)
_CHOLESTEROL = {"mg/dL": Conversion(1 / 38.67), "mmol/L": _SAME}

CANONICAL: dict[str, tuple[str, dict[str, Conversion]]] = {
    "glucose": ("mmol/L", {"mmol/L": _SAME, "mg/dL": Conversion(1 / 18.016)}),
    "total_cholesterol": ("mmol/L", _CHOLESTEROL),
    "ldl_cholesterol": ("mmol/L", _CHOLESTEROL),
    "hdl_cholesterol": ("mmol/L", _CHOLESTEROL),
    "non_hdl_cholesterol": ("mmol/L", _CHOLESTEROL),
    "triglycerides": ("mmol/L", {"mmol/L": _SAME, "mg/dL": Conversion(1 / 88.57)}),
    "haemoglobin": ("g/L", {"g/L": _SAME, "g/dL": Conversion(10.0), "mmol/L": Conversion(16.1145)}),
    "creatinine": ("umol/L", {"umol/L": _SAME, "mmol/L": Conversion(1000.0), "mg/dL": Conversion(88.42)}),
    "testosterone": ("nmol/L", {"nmol/L": _SAME, "ng/dL": Conversion(1 / 28.842), "ng/mL": Conversion(3.4671)}),
    "vitamin_d": ("nmol/L", {"nmol/L": _SAME, "ng/mL": Conversion(2.496), "ug/L": Conversion(2.496)}),
    "vitamin_b12": ("pmol/L", {"pmol/L": _SAME, "pg/mL": Conversion(0.7378), "ng/L": Conversion(0.7378)}),
    "ferritin": ("ug/L", {"ug/L": _SAME, "ng/mL": _SAME}),
    "hba1c": ("mmol/mol", {"mmol/mol": _SAME, "%": Conversion(10.929, -10.929 * 2.152)}),
    "folate": ("nmol/L", {"nmol/L": _SAME, "ug/L": Conversion(2.266), "ng/mL": Conversion(2.266)}),
    "iron": ("umol/L", {"umol/L": _SAME, "ug/dL": Conversion(0.1791)}),
    "bilirubin": ("umol/L", {"umol/L": _SAME, "mg/dL": Conversion(17.104)}),
    "calcium": ("mmol/L", {"mmol/L": _SAME, "mg/dL": Conversion(0.2495)}),
    "adjusted_calcium": ("mmol/L", {"mmol/L": _SAME, "mg/dL": Conversion(0.2495)}),
    "free_t4": ("pmol/L", {"pmol/L": _SAME, "ng/dL": Conversion(12.871)}),
    "crp": ("mg/L", {"mg/L": _SAME, "mg/dL": Conversion(10.0)}),
    "hs_crp": ("mg/L", {"mg/L": _SAME, "mg/dL": Conversion(10.0)}),
    "albumin": ("g/L", {"g/L": _SAME, "g/dL": Conversion(10.0)}),
    "total_protein": ("g/L", {"g/L": _SAME, "g/dL": Conversion(10.0)}),
    "urea": ("mmol/L", {"mmol/L": _SAME}),
    "sodium": ("mmol/L", {"mmol/L": _SAME, "meq/L": _SAME}),
    "potassium": ("mmol/L", {"mmol/L": _SAME, "meq/L": _SAME}),
    "chloride": ("mmol/L", {"mmol/L": _SAME, "meq/L": _SAME}),
    "tsh": ("m[IU]/L", {"m[IU]/L": _SAME, "u[IU]/mL": _SAME}),
    "white_cell_count": ("10*9/L", {"10*9/L": _SAME, "10*3/uL": _SAME}),
    "platelets": ("10*9/L", {"10*9/L": _SAME, "10*3/uL": _SAME}),
    "alt": ("U/L", {"U/L": _SAME, "[IU]/L": _SAME}),
    "ast": ("U/L", {"U/L": _SAME, "[IU]/L": _SAME}),
    "alp": ("U/L", {"U/L": _SAME, "[IU]/L": _SAME}),
    "ggt": ("U/L", {"U/L": _SAME, "[IU]/L": _SAME}),
    "egfr": ("mL/min/{1.73_m2}", {"mL/min/{1.73_m2}": _SAME}),
}

# Printed spellings (after `_fold`) that are not already the UCUM code in lower case.
_ALIASES: dict[str, str] = {
    "mmol/l": "mmol/L",
    "mg/dl": "mg/dL",
    "g/l": "g/L",
    "g/dl": "g/dL",
    "umol/l": "umol/L",
    "nmol/l": "nmol/L",
    "pmol/l": "pmol/L",
    "ng/dl": "ng/dL",
    "ng/ml": "ng/mL",
    "pg/ml": "pg/mL",
    "ng/l": "ng/L",
    "ug/l": "ug/L",
    "ug/dl": "ug/dL",
    "mg/l": "mg/L",
    "mmol/mol": "mmol/mol",
    "%": "%",
    "meq/l": "meq/L",
    "miu/l": "m[IU]/L",
    "mu/l": "m[IU]/L",
    "uiu/ml": "u[IU]/mL",
    "uu/ml": "u[IU]/mL",
    "iu/l": "[IU]/L",
    "u/l": "U/L",
    "10*9/l": "10*9/L",
    "10*3/ul": "10*3/uL",
    "k/ul": "10*3/uL",
    "thou/ul": "10*3/uL",
    "10*12/l": "10*12/L",
    "10*6/ul": "10*6/uL",
    "ml/min/1.73m2": "mL/min/{1.73_m2}",
    "ml/min/{1.73_m2}": "mL/min/{1.73_m2}",
    "fl": "fL",
    "pg": "pg",
    "mm/h": "mm/h",
    "mm/hr": "mm/h",
}


def _fold(unit: str) -> str:
    text = unit.strip().replace("µ", "u").replace("μ", "u").replace("²", "2").replace(" ", "").lower()
    text = re.sub(r"^mc(?=g/)", "u", text)  # mcg/L
    text = re.sub(r"^x?10\^?(\d{1,2})", r"10*\1", text)  # x10^9/L, 10^9/L, 10*9/L
    return text.replace("[iu]", "iu")


def ucum_code(unit: str | None) -> str | None:
    """The UCUM code of a printed unit, or None when it is not one we know."""
    if not unit or not unit.strip():
        return None
    folded = _fold(unit)
    return _ALIASES.get(folded)


@dataclass(frozen=True)
class LabValue:
    key: str  # the series: biomarker_<key>
    value: float
    unit: str | None
    reference_low: float | None
    reference_high: float | None
    converted: bool  # False when stored as given


def _unit_slug(unit: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", _fold(unit).replace("%", "_pct").replace("*", "e")).strip("_")
    return slug[:20].strip("_") or "other"


def normalise_lab_value(
    key: str, value: float, unit: str | None, reference_low: float | None, reference_high: float | None
) -> LabValue:
    """The series, value, UCUM unit and range to store a result of `biomarker_<key>` under."""
    entry = CANONICAL.get(key)
    if entry is None:
        return LabValue(key, value, ucum_code(unit) or unit, reference_low, reference_high, converted=False)
    canonical_unit, conversions = entry
    code = ucum_code(unit)
    if unit is None or not unit.strip():
        # No unit printed: the value is taken to be in the canonical unit (as most labs print it).
        return LabValue(key, value, canonical_unit, reference_low, reference_high, converted=False)
    conversion = conversions.get(code) if code else None
    if conversion is None:  # a unit we cannot convert: a series of its own, never mixed in
        return LabValue(f"{key}_{_unit_slug(unit)}"[:60], value, code or unit, reference_low, reference_high, False)

    def convert(number: float | None) -> float | None:
        return None if number is None else round(conversion.apply(number), 4)

    if conversion.apply(value) < 0:  # below what the conversion covers (HbA1c under 2.15 %)
        return LabValue(f"{key}_{_unit_slug(unit)}"[:60], value, code or unit, reference_low, reference_high, False)
    converted = code != canonical_unit
    return LabValue(
        key,
        round(conversion.apply(value), 4),
        canonical_unit,
        convert(reference_low),
        convert(reference_high),
        converted=converted,
    )


def canonical_unit_of(key: str) -> str | None:
    entry = CANONICAL.get(key)
    return entry[0] if entry else None
