"""FHIR R4: measurements as `Observation` resources, lab reports as `DiagnosticReport`s, a `Bundle`
of type `collection` around them, and lab Observations read back.

Codes: LOINC for every standardised analyte (`LOINC` below; the code named is the one whose
property matches the series' canonical unit in `lab_units.CANONICAL`: glucose in mmol/L is
14749-6 "Glucose [Moles/volume] in Serum or Plasma") and for the vital signs (weight, body fat,
resting heart rate, heart rate variability, steps). Units are UCUM codes. An analyte without a
LOINC code is exported with its name as `code.text` only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .lab_units import ucum_code
from .models import BiomarkerFlag, Metric, MetricType
from .registry import BIOMARKER_PREFIX

LOINC_SYSTEM = "http://loinc.org"
UCUM_SYSTEM = "http://unitsofmeasure.org"
CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
LAB_REPORT_LOINC = ("11502-2", "Laboratory report")


@dataclass(frozen=True)
class Code:
    code: str
    display: str


# Lab analytes: the series key (biomarker_<key>) → LOINC code and display name.
LOINC: dict[str, Code] = {
    "haemoglobin": Code("718-7", "Hemoglobin [Mass/volume] in Blood"),
    "white_cell_count": Code("6690-2", "Leukocytes [#/volume] in Blood by Automated count"),
    "red_cell_count": Code("789-8", "Erythrocytes [#/volume] in Blood by Automated count"),
    "platelets": Code("777-3", "Platelets [#/volume] in Blood by Automated count"),
    "haematocrit": Code("4544-3", "Hematocrit [Volume Fraction] of Blood by Automated count"),
    "mcv": Code("787-2", "MCV [Entitic volume] by Automated count"),
    "mch": Code("785-6", "MCH [Entitic mass] by Automated count"),
    "mchc": Code("786-4", "MCHC [Mass/volume] by Automated count"),
    "rdw": Code("788-0", "Erythrocyte distribution width [Ratio] by Automated count"),
    "neutrophils": Code("751-8", "Neutrophils [#/volume] in Blood by Automated count"),
    "lymphocytes": Code("731-0", "Lymphocytes [#/volume] in Blood by Automated count"),
    "monocytes": Code("742-7", "Monocytes [#/volume] in Blood by Automated count"),
    "eosinophils": Code("711-2", "Eosinophils [#/volume] in Blood by Automated count"),
    "basophils": Code("704-7", "Basophils [#/volume] in Blood by Automated count"),
    "esr": Code("4537-7", "Erythrocyte sedimentation rate by Westergren method"),
    "glucose": Code("14749-6", "Glucose [Moles/volume] in Serum or Plasma"),
    "hba1c": Code("59261-8", "Hemoglobin A1c/Hemoglobin.total in Blood by IFCC protocol"),
    "total_cholesterol": Code("14647-2", "Cholesterol [Moles/volume] in Serum or Plasma"),
    "ldl_cholesterol": Code("22748-8", "Cholesterol in LDL [Moles/volume] in Serum or Plasma"),
    "hdl_cholesterol": Code("14646-4", "Cholesterol in HDL [Moles/volume] in Serum or Plasma"),
    "non_hdl_cholesterol": Code("70204-3", "Cholesterol non HDL [Moles/volume] in Serum or Plasma"),
    "triglycerides": Code("14927-8", "Triglyceride [Moles/volume] in Serum or Plasma"),
    "tsh": Code("3016-3", "Thyrotropin [Units/volume] in Serum or Plasma"),
    "free_t4": Code("14920-3", "Thyroxine (T4) free [Moles/volume] in Serum or Plasma"),
    "free_t3": Code("14928-6", "Triiodothyronine (T3) Free [Moles/volume] in Serum or Plasma"),
    "vitamin_d": Code("14635-7", "Calcidiol [Moles/volume] in Serum or Plasma"),
    "vitamin_b12": Code("14685-2", "Cobalamin (Vitamin B12) [Moles/volume] in Serum or Plasma"),
    "folate": Code("14732-2", "Folate [Moles/volume] in Serum or Plasma"),
    "ferritin": Code("2276-4", "Ferritin [Mass/volume] in Serum or Plasma"),
    "iron": Code("14798-3", "Iron [Moles/volume] in Serum or Plasma"),
    "transferrin_saturation": Code("2502-3", "Iron saturation [Mass Fraction] in Serum or Plasma"),
    "creatinine": Code("14682-9", "Creatinine [Moles/volume] in Serum or Plasma"),
    "egfr": Code("62238-1", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] (CKD-EPI)"),
    "urea": Code("22664-7", "Urea [Moles/volume] in Serum or Plasma"),
    "blood_urea_nitrogen": Code("3094-0", "Urea nitrogen [Mass/volume] in Serum or Plasma"),
    "sodium": Code("2951-2", "Sodium [Moles/volume] in Serum or Plasma"),
    "potassium": Code("2823-3", "Potassium [Moles/volume] in Serum or Plasma"),
    "chloride": Code("2075-0", "Chloride [Moles/volume] in Serum or Plasma"),
    "bicarbonate": Code("1963-8", "Bicarbonate [Moles/volume] in Serum or Plasma"),
    "calcium": Code("2000-8", "Calcium [Moles/volume] in Serum or Plasma"),
    "adjusted_calcium": Code("29265-6", "Calcium [Moles/volume] corrected for albumin in Serum or Plasma"),
    "phosphate": Code("14879-1", "Phosphate [Moles/volume] in Serum or Plasma"),
    "uric_acid": Code("14933-6", "Urate [Moles/volume] in Serum or Plasma"),
    "alt": Code("1742-6", "Alanine aminotransferase [Enzymatic activity/volume] in Serum or Plasma"),
    "ast": Code("1920-8", "Aspartate aminotransferase [Enzymatic activity/volume] in Serum or Plasma"),
    "alp": Code("6768-6", "Alkaline phosphatase [Enzymatic activity/volume] in Serum or Plasma"),
    "ggt": Code("2324-2", "Gamma glutamyl transferase [Enzymatic activity/volume] in Serum or Plasma"),
    "bilirubin": Code("14631-6", "Bilirubin.total [Moles/volume] in Serum or Plasma"),
    "albumin": Code("1751-7", "Albumin [Mass/volume] in Serum or Plasma"),
    "total_protein": Code("2885-2", "Protein [Mass/volume] in Serum or Plasma"),
    "crp": Code("1988-5", "C reactive protein [Mass/volume] in Serum or Plasma"),
    "hs_crp": Code("30522-7", "C reactive protein [Mass/volume] in Serum or Plasma by High sensitivity method"),
    "testosterone": Code("14913-8", "Testosterone [Moles/volume] in Serum or Plasma"),
    "psa": Code("2857-1", "Prostate specific Ag [Mass/volume] in Serum or Plasma"),
    "creatine_kinase": Code("2157-6", "Creatine kinase [Enzymatic activity/volume] in Serum or Plasma"),
}

# Vital signs: metric type → LOINC code and the UCUM unit its values are in.
VITALS: dict[str, tuple[Code, str]] = {
    MetricType.WEIGHT: (Code("29463-7", "Body weight"), "kg"),
    MetricType.BODY_FAT: (Code("41982-0", "Percentage of body fat Measured"), "%"),
    MetricType.RESTING_HR: (Code("40443-4", "Heart rate --resting"), "/min"),
    MetricType.HRV: (Code("80404-7", "R-R interval.standard deviation (Heart rate variability)"), "ms"),
    MetricType.STEPS: (Code("41950-7", "Number of steps in 24 hour Measured"), "/(24.h)"),
}

BY_LOINC: dict[str, str] = {code.code: key for key, code in LOINC.items()}

INTERPRETATION: dict[BiomarkerFlag, tuple[str, str]] = {
    BiomarkerFlag.LOW: ("L", "Low"),
    BiomarkerFlag.NORMAL: ("N", "Normal"),
    BiomarkerFlag.HIGH: ("H", "High"),
    BiomarkerFlag.ABNORMAL: ("A", "Abnormal"),
}
FLAG_OF_INTERPRETATION: dict[str, BiomarkerFlag] = {
    "L": BiomarkerFlag.LOW,
    "LL": BiomarkerFlag.LOW,
    "LU": BiomarkerFlag.LOW,
    "N": BiomarkerFlag.NORMAL,
    "H": BiomarkerFlag.HIGH,
    "HH": BiomarkerFlag.HIGH,
    "HU": BiomarkerFlag.HIGH,
    "A": BiomarkerFlag.ABNORMAL,
    "AA": BiomarkerFlag.ABNORMAL,
}


def resource_url(resource_id: uuid.UUID) -> str:
    return f"urn:uuid:{resource_id}"


def _quantity(value: float, unit: str | None) -> dict[str, Any]:
    quantity: dict[str, Any] = {"value": value}
    code = ucum_code(unit) if unit else None
    if code is None and unit and unit in {"/min", "ms", "/(24.h)", "kg", "%"}:
        code = unit
    if unit:
        quantity["unit"] = unit
    if code:
        quantity.update(system=UCUM_SYSTEM, code=code)
    return quantity


def _category(code: str, display: str) -> list[dict[str, Any]]:
    return [{"coding": [{"system": CATEGORY_SYSTEM, "code": code, "display": display}]}]


def _effective(instant: datetime, zone_instant: datetime | None) -> str:
    return (zone_instant or instant).isoformat()


def lab_observation(
    metric: Metric, *, local_time: datetime | None = None, name: str | None = None
) -> dict[str, Any] | None:
    """An Observation (category laboratory) of a `biomarker_` value; None for other types."""
    if not metric.metric_type.startswith(BIOMARKER_PREFIX):
        return None
    key = metric.metric_type[len(BIOMARKER_PREFIX) :]
    loinc = LOINC.get(key)
    text = name or key.replace("_", " ")
    code: dict[str, Any] = {"text": text}
    if loinc is not None:
        code["coding"] = [{"system": LOINC_SYSTEM, "code": loinc.code, "display": loinc.display}]
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(metric.id),
        "status": "final",
        "category": _category("laboratory", "Laboratory"),
        "code": code,
        "effectiveDateTime": _effective(metric.timestamp, local_time),
        "valueQuantity": _quantity(metric.value, metric.unit),
    }
    if metric.reference_low is not None or metric.reference_high is not None:
        reference: dict[str, Any] = {}
        if metric.reference_low is not None:
            reference["low"] = _quantity(metric.reference_low, metric.unit)
        if metric.reference_high is not None:
            reference["high"] = _quantity(metric.reference_high, metric.unit)
        resource["referenceRange"] = [reference]
    if metric.flag is not None:
        flag_code, display = INTERPRETATION[metric.flag]
        resource["interpretation"] = [
            {"coding": [{"system": INTERPRETATION_SYSTEM, "code": flag_code, "display": display}]}
        ]
    if metric.value_text and metric.value_text[:1] in "<>≤≥":
        resource["note"] = [{"text": f"As printed: {metric.value_text}"}]
    return resource


def text_observation(
    observation_id: uuid.UUID, name: str, key: str, value_text: str, effective: datetime, flag: str | None
) -> dict[str, Any]:
    """An Observation of a result printed as words ("Negative")."""
    loinc = LOINC.get(key)
    code: dict[str, Any] = {"text": name}
    if loinc is not None:
        code["coding"] = [{"system": LOINC_SYSTEM, "code": loinc.code, "display": loinc.display}]
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": str(observation_id),
        "status": "final",
        "category": _category("laboratory", "Laboratory"),
        "code": code,
        "effectiveDateTime": effective.isoformat(),
        "valueString": value_text,
    }
    if flag is not None and flag in {f.value for f in INTERPRETATION}:
        flag_code, display = INTERPRETATION[BiomarkerFlag(flag)]
        resource["interpretation"] = [
            {"coding": [{"system": INTERPRETATION_SYSTEM, "code": flag_code, "display": display}]}
        ]
    return resource


def vital_observation(metric: Metric, *, local_time: datetime | None = None) -> dict[str, Any] | None:
    """An Observation (category vital-signs) of weight, body fat, resting HR, HRV or steps."""
    entry = VITALS.get(metric.metric_type)
    if entry is None:
        return None
    code, unit = entry
    return {
        "resourceType": "Observation",
        "id": str(metric.id),
        "status": "final",
        "category": _category("vital-signs", "Vital Signs"),
        "code": {
            "coding": [{"system": LOINC_SYSTEM, "code": code.code, "display": code.display}],
            "text": code.display,
        },
        "effectiveDateTime": _effective(metric.timestamp, local_time),
        "valueQuantity": {"value": metric.value, "unit": unit, "system": UCUM_SYSTEM, "code": unit},
    }


def diagnostic_report(
    report_id: uuid.UUID,
    *,
    effective: datetime,
    issued: datetime,
    result_ids: Iterable[str],
    lab_name: str | None = None,
) -> dict[str, Any]:
    """A DiagnosticReport grouping one lab report's Observations (by their bundle URLs)."""
    resource: dict[str, Any] = {
        "resourceType": "DiagnosticReport",
        "id": str(report_id),
        "status": "final",
        "category": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v2-0074", "code": "LAB", "display": "Laboratory"}
                ]
            }
        ],
        "code": {
            "coding": [{"system": LOINC_SYSTEM, "code": LAB_REPORT_LOINC[0], "display": LAB_REPORT_LOINC[1]}],
            "text": "Laboratory report",
        },
        "effectiveDateTime": effective.isoformat(),
        "issued": issued.isoformat(),
        "result": [{"reference": f"urn:uuid:{rid}"} for rid in result_ids],
    }
    if lab_name:
        resource["performer"] = [{"display": lab_name}]
    return resource


def bundle(resources: Iterable[Mapping[str, Any]], *, bundle_id: uuid.UUID, timestamp: datetime) -> dict[str, Any]:
    """A Bundle of type collection; each entry's fullUrl is urn:uuid:<resource id>."""
    return {
        "resourceType": "Bundle",
        "id": str(bundle_id),
        "type": "collection",
        "timestamp": timestamp.isoformat(),
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": dict(r)} for r in resources],
    }


# The example shown in the API document: one lab result and one weight.
BUNDLE_EXAMPLE: dict[str, Any] = {
    "resourceType": "Bundle",
    "id": "0b9e4c1a-6f7d-4e2b-8a53-2d1c9e7f4a60",
    "type": "collection",
    "timestamp": "2026-03-10T08:00:00+01:00",
    "entry": [
        {
            "fullUrl": "urn:uuid:5f0c2e7a-1b3d-4c8e-9a2f-6d4b8e1c3a57",
            "resource": {
                "resourceType": "Observation",
                "id": "5f0c2e7a-1b3d-4c8e-9a2f-6d4b8e1c3a57",
                "status": "final",
                "category": _category("laboratory", "Laboratory"),
                "code": {
                    "coding": [{"system": LOINC_SYSTEM, "code": "2345-7", "display": "Glucose [Mass/volume] in Serum"}],
                    "text": "Glucose",
                },
                "effectiveDateTime": "2026-03-09T08:00:00+01:00",
                "valueQuantity": {"value": 92, "unit": "mg/dL", "system": UCUM_SYSTEM, "code": "mg/dL"},
                "referenceRange": [
                    {
                        "low": {"value": 70, "unit": "mg/dL", "system": UCUM_SYSTEM, "code": "mg/dL"},
                        "high": {"value": 99, "unit": "mg/dL", "system": UCUM_SYSTEM, "code": "mg/dL"},
                    }
                ],
            },
        },
        {
            "fullUrl": "urn:uuid:8a1d3f5b-7c9e-4b2a-8d6f-1e3c5a7b9d20",
            "resource": {
                "resourceType": "Observation",
                "id": "8a1d3f5b-7c9e-4b2a-8d6f-1e3c5a7b9d20",
                "status": "final",
                "category": _category("vital-signs", "Vital Signs"),
                "code": {
                    "coding": [{"system": LOINC_SYSTEM, "code": "29463-7", "display": "Body weight"}],
                    "text": "Body weight",
                },
                "effectiveDateTime": "2026-03-10T07:30:00+01:00",
                "valueQuantity": {"value": 72.5, "unit": "kg", "system": UCUM_SYSTEM, "code": "kg"},
            },
        },
    ],
}
