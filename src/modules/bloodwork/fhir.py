"""Lab results in from FHIR R4: a `Bundle` (any type) or a single `Observation`.

Untrusted input, bounded before it is parsed: at most `MAX_FHIR_BYTES`, nesting at most
`MAX_NESTING` arrays/objects deep (checked on the raw bytes, so a deep document never reaches the
JSON parser's recursion), at most `MAX_ENTRIES` Bundle entries. Only `Observation`s with a
number (`valueQuantity`) or words (`valueString`, `valueCodeableConcept.text`) are read; other
resources (DiagnosticReport, Patient, …) and vital-sign Observations are skipped and counted.

Each Observation's analyte comes from its LOINC code (the export's table backwards), else from its
name (`code.text`, else a coding's display) through the same standardised-name table as PDF
uploads; its unit is the UCUM code, converted like any lab result. Its test day is the date as
written in `effectiveDateTime` (the person's local date when we exported it).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from src.core.errors import PayloadTooLarge
from src.modules.metrics import BY_LOINC, FLAG_OF_INTERPRETATION, LOINC_SYSTEM, UCUM_SYSTEM

from .errors import FhirNestingTooDeep, InvalidFhir, NoLabResultsInFhir, TooManyFhirEntries
from .models import ParsedBiomarker
from .parser import ANALYTES, METRIC_PREFIX, build_biomarker

MAX_FHIR_BYTES = 2 * 1024 * 1024
MAX_NESTING = 24
MAX_ENTRIES = 1000

_NAME_OF_KEY = {analyte.key: analyte.name for analyte in ANALYTES}


@dataclass(frozen=True)
class FhirResult:
    biomarker: ParsedBiomarker
    day: date | None


@dataclass(frozen=True)
class FhirRead:
    results: list[FhirResult]
    skipped: int


def check_size(size: int) -> None:
    if size > MAX_FHIR_BYTES:
        raise PayloadTooLarge(f"A FHIR document may be at most {MAX_FHIR_BYTES // 1_048_576} MB.")


def check_nesting(data: bytes) -> None:
    """Refuse JSON nested deeper than MAX_NESTING without parsing it (brackets inside strings
    do not count)."""
    depth = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
            continue
        if byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > MAX_NESTING:
                raise FhirNestingTooDeep(f"The document is nested more than {MAX_NESTING} levels deep.")
        elif byte in (0x5D, 0x7D):
            depth -= 1


def _loads(data: bytes) -> dict[str, Any]:
    check_size(len(data))
    check_nesting(data)
    try:
        payload = json.loads(data.decode("utf-8-sig"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidFhir("The body is not JSON.") from None
    if not isinstance(payload, dict):
        raise InvalidFhir("Send a FHIR Bundle or Observation (a JSON object).")
    return payload


def _no_constant(name: str) -> float:
    raise ValueError(name)


def _text(value: Any, limit: int = 100) -> str | None:
    return " ".join(value.split())[:limit] or None if isinstance(value, str) else None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _codings(concept: Any) -> list[dict[str, Any]]:
    if not isinstance(concept, dict) or not isinstance(concept.get("coding"), list):
        return []
    return [c for c in concept["coding"][:20] if isinstance(c, dict)]


def _unit(quantity: dict[str, Any]) -> str | None:
    if quantity.get("system") == UCUM_SYSTEM and _text(quantity.get("code"), 30):
        return _text(quantity.get("code"), 30)
    return _text(quantity.get("unit"), 30) or _text(quantity.get("code"), 30)


def _day(resource: dict[str, Any]) -> date | None:
    written = resource.get("effectiveDateTime")
    if not isinstance(written, str):
        period = resource.get("effectivePeriod")
        written = period.get("start") if isinstance(period, dict) else resource.get("issued")
    if not isinstance(written, str) or len(written) < 10:
        return None
    try:
        return date.fromisoformat(written[:10])
    except ValueError:
        raise InvalidFhir("effectiveDateTime must be a FHIR dateTime such as 2026-11-28T12:00:00+00:00.") from None


def _is_vital_sign(resource: dict[str, Any]) -> bool:
    categories = resource.get("category")
    if not isinstance(categories, list):
        return False
    return any(c.get("code") == "vital-signs" for concept in categories[:10] for c in _codings(concept))


def _observation(resource: dict[str, Any]) -> FhirResult | None:
    if resource.get("status") in ("entered-in-error", "cancelled") or _is_vital_sign(resource):
        return None
    concept = resource.get("code")
    codings = _codings(concept)
    key = next(
        (BY_LOINC[c["code"]] for c in codings if c.get("system") == LOINC_SYSTEM and c.get("code") in BY_LOINC), None
    )
    name = (
        _text(concept.get("text") if isinstance(concept, dict) else None)
        or next((t for c in codings if (t := _text(c.get("display")))), None)
        or (_NAME_OF_KEY.get(key) if key else None)
    )
    if name is None:
        return None
    value: float | None = None
    comparator: str | None = None
    value_text: str | None = None
    unit: str | None = None
    quantity = resource.get("valueQuantity")
    if isinstance(quantity, dict):
        value = _number(quantity.get("value"))
        if value is None:
            return None
        comparator = quantity.get("comparator") if quantity.get("comparator") in ("<", "<=", ">=", ">") else None
        unit = _unit(quantity)
    else:
        answer = resource.get("valueCodeableConcept")
        value_text = _text(resource.get("valueString"), 50) or _text(
            answer.get("text") if isinstance(answer, dict) else None, 50
        )
        if value_text is None:
            return None
    low = high = None
    ranges = resource.get("referenceRange")
    if isinstance(ranges, list) and ranges and isinstance(ranges[0], dict):
        bounds = ranges[0]
        low = _number(bounds["low"].get("value")) if isinstance(bounds.get("low"), dict) else None
        high = _number(bounds["high"].get("value")) if isinstance(bounds.get("high"), dict) else None
    flag = None
    interpretations = resource.get("interpretation")
    if isinstance(interpretations, list):
        for concept in interpretations[:5]:
            for coding in _codings(concept):
                found = FLAG_OF_INTERPRETATION.get(str(coding.get("code")))
                flag = flag or (found.value if found else None)
    biomarker = build_biomarker(
        name,
        value=value,
        comparator=comparator,
        value_text=f"{comparator}{value:g}" if comparator and value is not None else value_text,
        unit=unit,
        reference_low=low,
        reference_high=high,
        printed_flag=flag,  # type: ignore[arg-type]
    )
    if biomarker is None:
        return None
    if key is not None:  # the LOINC code names the series, whatever the name says
        biomarker = biomarker.model_copy(
            update={"metric_type": METRIC_PREFIX + key, "standardised_name": _NAME_OF_KEY.get(key, key)}
        )
    return FhirResult(biomarker, _day(resource))


def read_fhir(data: bytes) -> FhirRead:
    """The lab results of a FHIR Bundle or Observation; raises the problems above."""
    payload = _loads(data)
    kind = payload.get("resourceType")
    if kind == "Observation":
        resources: list[Any] = [payload]
    elif kind == "Bundle":
        entries = payload.get("entry", [])
        if not isinstance(entries, list):
            raise InvalidFhir("Bundle.entry must be a list.")
        if len(entries) > MAX_ENTRIES:
            raise TooManyFhirEntries(f"A Bundle may have at most {MAX_ENTRIES} entries.")
        resources = [e.get("resource") for e in entries if isinstance(e, dict)]
    else:
        raise InvalidFhir("Send a FHIR Bundle or Observation (resourceType Bundle or Observation).")
    results: list[FhirResult] = []
    skipped = 0
    for resource in resources:
        if not isinstance(resource, dict) or resource.get("resourceType") != "Observation":
            skipped += isinstance(resource, dict) and resource.get("resourceType") != "DiagnosticReport"
            continue
        result = _observation(resource)
        if result is None:
            skipped += 1
        else:
            results.append(result)
    if not results:
        raise NoLabResultsInFhir("No lab result Observations with a value were found.")
    return FhirRead(results, skipped)
