"""Two labs, two unit systems, one series per analyte: what the person sees after uploading a UK
report (mmol/L) and a US report (mg/dL, ng/dL, synonyms such as "LDL Chol Calc")."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.bloodwork.documents import table_report
from tests.bloodwork.helpers import API, GROUPED, HISTORY, TREND, upload
from tests.factories import anonymous_user


def uk_report() -> bytes:
    return table_report(
        ["Northfield Pathology Laboratory", "Sample collected: 28/11/2025"],
        [
            ("Glucose", "5.4", "mmol/L", "3.9 - 5.5", ""),
            ("LDL Cholesterol", "3.4", "mmol/L", "< 3.0", ""),
            ("Vitamin D", "45", "nmol/L", "50 - 175", ""),
            ("hs-CRP", "1.2", "mg/L", "< 3.0", ""),
            ("Haemoglobin", "145", "g/L", "130 - 170", ""),
            ("HbA1c", "40", "mmol/mol", "20 - 41", ""),
        ],
    )


def us_report() -> bytes:
    return table_report(
        ["Quest Diagnostics", "Collected: 02/01/2026"],  # month first on a US report: 1 February
        [
            ("Glucose", "95", "mg/dL", "65 - 99", ""),
            ("LDL Chol Calc", "131", "mg/dL", "0 - 99", "H"),
            ("Vitamin D, 25-Hydroxy", "30", "ng/mL", "30 - 100", ""),
            ("C-Reactive Protein, Cardiac", "0.9", "mg/L", "0 - 3.0", ""),
            ("Hemoglobin", "14.5", "g/dL", "13.2 - 17.1", ""),
            ("Hemoglobin A1c", "5.8", "%", "< 5.7", "H"),
            ("Testosterone, Total", "577", "ng/dL", "264 - 916", ""),
        ],
    )


async def _history(client: httpx.AsyncClient, headers: dict[str, str], metric_type: str) -> list[dict[str, object]]:
    response = await client.get(HISTORY, headers=headers, params={"metric_type": metric_type})
    assert response.status_code == 200, response.text
    return list(reversed(response.json()))  # oldest first


async def test_two_labs_in_different_units_make_one_series_per_analyte(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    uk = await upload(client, user, uk_report())
    us = await upload(client, user, us_report())
    assert uk.status_code == us.status_code == 200, (uk.text, us.text)
    assert (uk.json()["test_date"], us.json()["test_date"]) == ("2025-11-28", "2026-02-01")

    expected = {
        "biomarker_glucose": ("mmol/L", [5.4, 5.2731]),
        "biomarker_ldl_cholesterol": ("mmol/L", [3.4, 3.3877]),
        "biomarker_vitamin_d": ("nmol/L", [45.0, 74.88]),
        "biomarker_hs_crp": ("mg/L", [1.2, 0.9]),
        "biomarker_haemoglobin": ("g/L", [145.0, 145.0]),
        "biomarker_hba1c": ("mmol/mol", [40.0, 39.869]),
    }
    for metric_type, (unit, values) in expected.items():
        series = await _history(client, user.headers, metric_type)
        assert [m["unit"] for m in series] == [unit, unit], metric_type
        assert [m["value"] for m in series] == pytest.approx(values, abs=1e-3), metric_type


async def test_the_printed_value_and_unit_are_kept_beside_the_converted_one(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    assert (await upload(client, user, us_report())).status_code == 200
    [glucose] = await _history(client, user.headers, "biomarker_glucose")
    assert (glucose["value"], glucose["unit"]) == (pytest.approx(5.2731, abs=1e-4), "mmol/L")
    assert (glucose["original_value"], glucose["original_unit"]) == (95.0, "mg/dL")
    assert (glucose["reference_low"], glucose["reference_high"]) == (
        pytest.approx(3.6079, abs=1e-3),
        pytest.approx(5.4951, abs=1e-3),
    )
    assert glucose["flag"] == "normal"
    [testosterone] = await _history(client, user.headers, "biomarker_testosterone")
    assert (testosterone["value"], testosterone["unit"]) == (pytest.approx(20.0055, abs=1e-3), "nmol/L")


async def test_glucose_trend_across_two_labs_is_sane(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert (await upload(client, user, uk_report())).status_code == 200
    assert (await upload(client, user, us_report())).status_code == 200
    response = await client.get(
        TREND, headers=user.headers, params={"metric_type": "biomarker_glucose", "period_days": 365}
    )
    assert response.status_code == 200, response.text
    trend = response.json()
    assert trend["data_points"] == 2
    assert (trend["first_value"], trend["last_value"]) == (5.4, 5.27)
    assert -5 < trend["change_percent"] < 0  # not "+1629 %"


async def test_synonyms_from_a_us_report_land_in_the_canonical_series(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    body = (await upload(client, user, us_report())).json()
    names = {b["raw_name"]: b["metric_type"] for b in body["biomarkers"]}
    assert names["LDL Chol Calc"] == "biomarker_ldl_cholesterol"
    assert names["Vitamin D, 25-Hydroxy"] == "biomarker_vitamin_d"
    assert names["C-Reactive Protein, Cardiac"] == "biomarker_hs_crp"
    assert names["Testosterone, Total"] == "biomarker_testosterone"
    [group] = (await client.get(GROUPED, headers=user.headers)).json()
    assert {m["metric_type"] for m in group["biomarkers"]} == set(names.values())


async def test_a_unit_that_cannot_be_converted_keeps_its_own_series(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert (await upload(client, user, uk_report())).status_code == 200
    response = await client.post(
        f"{API}/metrics",
        headers=user.headers,
        json={"metric_type": "biomarker_glucose", "value": 95, "unit": "mg%", "timestamp": "2026-01-05T08:00:00Z"},
    )
    assert response.status_code == 201, response.text
    assert (response.json()["metric_type"], response.json()["unit"]) == ("biomarker_glucose_mg_pct", "mg%")
    assert [m["value"] for m in await _history(client, user.headers, "biomarker_glucose")] == [5.4]


async def test_a_lab_value_recorded_by_hand_in_mg_dl_joins_the_series_converted(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        f"{API}/metrics",
        headers=user.headers,
        json={"metric_type": "biomarker_glucose", "value": 90, "unit": "mg/dL", "timestamp": "2026-01-05T08:00:00Z"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["metric_type"], body["unit"], body["original_value"], body["original_unit"]) == (
        "biomarker_glucose",
        "mmol/L",
        90.0,
        "mg/dL",
    )
    assert body["value"] == pytest.approx(4.9956, abs=1e-3)
