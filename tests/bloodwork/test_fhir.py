"""FHIR R4: lab reports and vital signs out as a Bundle that fhir.resources accepts, and lab
results back in (same values and units in a fresh account; duplicates, bounds, problems)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fhir.resources.R4B import get_fhir_model_class

from src.modules.metrics.fhir import LOINC, VITALS, lab_observation
from src.modules.metrics.lab_units import CANONICAL
from tests.bloodwork.documents import line_report
from tests.bloodwork.helpers import API, UPLOAD, assert_problem, history, ok, uploaded
from tests.bloodwork.reports import uk_report, us_report
from tests.factories import User, anonymous_user

FHIR_EXPORT = f"{API}/metrics/fhir"
FHIR_IMPORT = f"{UPLOAD}/fhir"
LOINC_SYSTEM = "http://loinc.org"


def _loinc_check_digit(number: str) -> int:
    """LOINC's mod 10 check digit."""
    total = 0
    for position, char in enumerate(reversed(number), start=1):
        digit = int(char)
        if position % 2 == 1:
            digit *= 2
        total += sum(int(d) for d in str(digit))
    return (10 - total % 10) % 10


def validated(bundle: dict[str, Any]) -> dict[str, Any]:
    """The bundle, after fhir.resources (R4B, the R4 Observation/DiagnosticReport/Bundle) parsed it
    and every resource in it on its own."""
    get_fhir_model_class("Bundle").model_validate(bundle)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    return bundle


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _loinc(resource: dict[str, Any]) -> str | None:
    return next((c["code"] for c in resource["code"].get("coding", []) if c["system"] == LOINC_SYSTEM), None)


@pytest.mark.parametrize(("key", "code"), [(key, code.code) for key, code in LOINC.items()])
def test_each_loinc_code_in_the_table_is_well_formed(key: str, code: str) -> None:
    number, check = code.split("-")
    assert _loinc_check_digit(number) == int(check), f"{key}: {code}"


@pytest.mark.parametrize("key", sorted(CANONICAL))
def test_each_converted_analyte_has_a_loinc_code(key: str) -> None:
    assert key in LOINC


def test_vital_sign_codes_are_well_formed() -> None:
    for code, _unit in VITALS.values():
        number, check = code.code.split("-")
        assert _loinc_check_digit(number) == int(check)


def test_a_non_lab_metric_is_not_a_lab_observation() -> None:
    from datetime import UTC, datetime
    from uuid import uuid4

    from src.modules.metrics import Metric

    now = datetime(2026, 1, 1, tzinfo=UTC)
    metric = Metric(
        id=uuid4(),
        identity_id=uuid4(),
        metric_type="weight_kg",
        value=80,
        timestamp=now,
        source="user_input",
        created_at=now,
        updated_at=now,
    )
    assert lab_observation(metric) is None


async def _report_bundle(client: httpx.AsyncClient, headers: dict[str, str], report_id: str) -> dict[str, Any]:
    response = await client.get(f"{UPLOAD}/{report_id}/fhir", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/fhir+json")
    return validated(response.json())


async def _series(client: httpx.AsyncClient, user: User, metric_type: str) -> list[tuple[Any, ...]]:
    return [
        (m["value"], m["unit"], m["reference_low"], m["reference_high"], m["flag"], m["timestamp"][:10])
        for m in await history(client, user, metric_type)
    ]


async def test_a_pdf_report_exports_as_a_bundle_that_imports_into_a_fresh_account(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    alice, bob = await anonymous_user(app), await anonymous_user(app)
    filed = await uploaded(client, alice, us_report())
    bundle = await _report_bundle(client, alice.headers, filed["lab_report_id"])
    observations = _resources(bundle, "Observation")
    [report] = _resources(bundle, "DiagnosticReport")
    assert len(observations) == 7
    assert len(report["result"]) == 7
    assert report["performer"] == [{"display": "Quest Diagnostics"}]
    glucose = next(o for o in observations if _loinc(o) == "14749-6")
    assert glucose["valueQuantity"]["code"] == "mmol/L"
    assert glucose["valueQuantity"]["value"] == pytest.approx(5.2731, abs=1e-4)
    assert glucose["effectiveDateTime"].startswith("2026-02-01T12:00:00")
    assert glucose["interpretation"][0]["coding"][0]["code"] == "N"
    assert glucose["referenceRange"][0]["high"]["value"] == pytest.approx(5.4951, abs=1e-3)
    ldl = next(o for o in observations if _loinc(o) == "22748-8")
    assert ldl["interpretation"][0]["coding"][0]["code"] == "H"

    body = ok(await client.post(FHIR_IMPORT, headers=bob.headers, content=json.dumps(bundle)))
    assert body["biomarker_count"] == 7
    assert body["skipped"] == 0
    assert [(r["test_date"], r["duplicate"]) for r in body["reports"]] == [("2026-02-01", False)]
    for metric_type in (o["metric_type"] for o in filed["biomarkers"]):
        assert await _series(client, bob, metric_type) == await _series(client, alice, metric_type)
    [glucose_row] = await history(client, bob, "biomarker_glucose")
    assert glucose_row["source"] == "fhir_import"


async def test_importing_the_same_results_again_changes_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    alice, bob = await anonymous_user(app), await anonymous_user(app)
    filed = await uploaded(client, alice, uk_report())
    bundle = await _report_bundle(client, alice.headers, filed["lab_report_id"])
    first = await client.post(FHIR_IMPORT, headers=bob.headers, json=bundle)
    again = await client.post(FHIR_IMPORT, headers=bob.headers, json=bundle)
    assert first.status_code == again.status_code == 200, again.text
    assert again.json()["reports"][0]["duplicate"] is True
    assert again.json()["reports"][0]["lab_report_id"] == first.json()["reports"][0]["lab_report_id"]
    assert again.json()["biomarker_count"] == 0
    assert len(await _series(client, bob, "biomarker_glucose")) == 1
    assert len((await client.get(UPLOAD, headers=bob.headers)).json()) == 1


async def test_a_single_observation_in_us_units_is_converted(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {
            "coding": [{"system": LOINC_SYSTEM, "code": "2345-7", "display": "Glucose [Mass/volume]"}],
            "text": "Glucose",
        },
        "effectiveDateTime": "2026-01-15T08:30:00-05:00",
        "valueQuantity": {"value": 99, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"},
        "referenceRange": [{"low": {"value": 65}, "high": {"value": 99}}],
    }
    response = await client.post(FHIR_IMPORT, headers=user.headers, json=observation)
    assert response.status_code == 200, response.text
    [row] = await history(client, user, "biomarker_glucose")
    assert (row["value"], row["unit"], row["original_value"], row["original_unit"]) == (
        pytest.approx(5.4951, abs=1e-3),
        "mmol/L",
        99.0,
        "mg/dL",
    )
    assert row["timestamp"].startswith("2026-01-15")


async def test_text_results_travel_both_ways(app: FastAPI, client: httpx.AsyncClient) -> None:
    alice, bob = await anonymous_user(app), await anonymous_user(app)
    document = line_report(["Collected: 02/03/2026", "Haemoglobin 145 g/L 130-170", "Urine culture: No growth"])
    filed = await uploaded(client, alice, document)
    bundle = await _report_bundle(client, alice.headers, filed["lab_report_id"])
    [text] = [o for o in _resources(bundle, "Observation") if "valueString" in o]
    assert (text["code"]["text"], text["valueString"]) == ("Urine culture", "No growth")
    imported = (await client.post(FHIR_IMPORT, headers=bob.headers, json=bundle)).json()
    report = (await client.get(f"{UPLOAD}/{imported['reports'][0]['lab_report_id']}", headers=bob.headers)).json()
    assert {r["raw_name"]: r["value_text"] for r in report["results"]} == {
        "Haemoglobin": "145",
        "Urine culture": "No growth",
    }


async def test_vitals_and_lab_results_export_as_one_bundle(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    for metric_type, value in (
        ("weight_kg", 82.5),
        ("body_fat_pct", 21.0),
        ("health_resting_hr", 58),
        ("health_hrv", 45),
        ("steps", 9000),
    ):
        response = await client.post(
            f"{API}/metrics",
            headers=user.headers,
            json={"metric_type": metric_type, "value": value, "timestamp": "2026-03-09T07:00:00Z"},
        )
        assert response.status_code == 201, response.text
    filed = await uploaded(client, user, uk_report())
    bundle = validated(ok(await client.get(FHIR_EXPORT, headers=user.headers)))
    assert bundle["type"] == "collection"
    vitals = {
        _loinc(o): o["valueQuantity"]
        for o in _resources(bundle, "Observation")
        if o["category"][0]["coding"][0]["code"] == "vital-signs"
    }
    assert {code: q["value"] for code, q in vitals.items()} == {
        "29463-7": 82.5,
        "41982-0": 21.0,
        "40443-4": 58.0,
        "80404-7": 45.0,
        "41950-7": 9000.0,
    }
    assert vitals["29463-7"]["code"] == "kg"
    labs = [o for o in _resources(bundle, "Observation") if o["category"][0]["coding"][0]["code"] == "laboratory"]
    assert len(labs) == 6
    assert all(_loinc(o) for o in labs)
    [report] = _resources(bundle, "DiagnosticReport")
    assert report["id"] == filed["lab_report_id"]
    assert len(report["result"]) == 6


async def test_someone_elses_report_is_not_exported(app: FastAPI, client: httpx.AsyncClient) -> None:
    alice, bob = await anonymous_user(app), await anonymous_user(app)
    filed = await uploaded(client, alice, uk_report())
    response = await client.get(f"{UPLOAD}/{filed['lab_report_id']}/fhir", headers=bob.headers)
    assert_problem(response, 404, "LAB_REPORT_NOT_FOUND")


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"not json", 422, "INVALID_FHIR"),
        (b"[1, 2]", 422, "INVALID_FHIR"),
        (b'{"resourceType": "Patient"}', 422, "INVALID_FHIR"),
        (b'{"resourceType": "Bundle", "entry": {}}', 422, "INVALID_FHIR"),
        (b"[" * 100_000 + b"]" * 100_000, 422, "FHIR_NESTING_TOO_DEEP"),
        (
            json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [{}] * 1001}).encode(),
            422,
            "TOO_MANY_FHIR_ENTRIES",
        ),
        (
            b'{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Patient"}}]}',
            422,
            "NO_LAB_RESULTS_IN_FHIR",
        ),
        (
            b'{"resourceType": "Observation", "status": "final", "code": {"text": "Glucose"}, '
            b'"valueQuantity": {"value": NaN}}',
            422,
            "INVALID_FHIR",
        ),
        (
            b'{"resourceType": "Observation", "status": "final", "code": {"text": "Glucose"}, '
            b'"valueQuantity": {"value": 5}, "effectiveDateTime": "2027-01-01"}',
            422,
            "INVALID_TEST_DATE",
        ),
        (b" " * (2 * 1024 * 1024 + 1), 413, "PAYLOAD_TOO_LARGE"),
    ],
)
async def test_hostile_or_wrong_fhir_input_is_a_problem_body(
    app: FastAPI, client: httpx.AsyncClient, body: bytes, status: int, code: str
) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        FHIR_IMPORT, headers={**user.headers, "content-type": "application/fhir+json"}, content=body
    )
    assert_problem(response, status, code)
    assert (await client.get(UPLOAD, headers=user.headers)).json() == []
