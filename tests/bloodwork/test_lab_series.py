"""Two labs, two unit systems, one series per analyte: what the person sees after uploading a UK
report (mmol/L) and a US report (mg/dL, ng/dL, synonyms such as "LDL Chol Calc")."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.bloodwork.helpers import API, TREND, grouped, history, ok, uploaded
from tests.bloodwork.reports import uk_report, us_report
from tests.factories import User, anonymous_user


async def _oldest_first(client: httpx.AsyncClient, user: User, metric_type: str) -> list[dict[str, Any]]:
    return list(reversed(await history(client, user, metric_type)))


async def test_two_labs_in_different_units_make_one_series_per_analyte(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    uk = await uploaded(client, user, uk_report())
    us = await uploaded(client, user, us_report())
    assert (uk["test_date"], us["test_date"]) == ("2025-11-28", "2026-02-01")

    expected = {
        "biomarker_glucose": ("mmol/L", [5.4, 5.2731]),
        "biomarker_ldl_cholesterol": ("mmol/L", [3.4, 3.3877]),
        "biomarker_vitamin_d": ("nmol/L", [45.0, 74.88]),
        "biomarker_hs_crp": ("mg/L", [1.2, 0.9]),
        "biomarker_haemoglobin": ("g/L", [145.0, 145.0]),
        "biomarker_hba1c": ("mmol/mol", [40.0, 39.869]),
    }
    for metric_type, (unit, values) in expected.items():
        series = await _oldest_first(client, user, metric_type)
        assert [m["unit"] for m in series] == [unit, unit], metric_type
        assert [m["value"] for m in series] == pytest.approx(values, abs=1e-3), metric_type


async def test_the_printed_value_and_unit_are_kept_beside_the_converted_one(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await uploaded(client, user, us_report())
    [glucose] = await _oldest_first(client, user, "biomarker_glucose")
    assert (glucose["value"], glucose["unit"]) == (pytest.approx(5.2731, abs=1e-4), "mmol/L")
    assert (glucose["original_value"], glucose["original_unit"]) == (95.0, "mg/dL")
    assert (glucose["reference_low"], glucose["reference_high"]) == (
        pytest.approx(3.6079, abs=1e-3),
        pytest.approx(5.4951, abs=1e-3),
    )
    assert glucose["flag"] == "normal"
    [testosterone] = await _oldest_first(client, user, "biomarker_testosterone")
    assert (testosterone["value"], testosterone["unit"]) == (pytest.approx(20.0055, abs=1e-3), "nmol/L")


async def test_glucose_trend_across_two_labs_is_sane(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await uploaded(client, user, uk_report())
    await uploaded(client, user, us_report())
    trend = ok(
        await client.get(TREND, headers=user.headers, params={"metric_type": "biomarker_glucose", "period_days": 365})
    )
    assert trend["data_points"] == 2
    assert (trend["first_value"], trend["last_value"]) == (5.4, 5.27)
    assert -5 < trend["change_percent"] < 0  # not "+1629 %"


async def test_synonyms_from_a_us_report_land_in_the_canonical_series(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    body = await uploaded(client, user, us_report())
    names = {b["raw_name"]: b["metric_type"] for b in body["biomarkers"]}
    assert names["LDL Chol Calc"] == "biomarker_ldl_cholesterol"
    assert names["Vitamin D, 25-Hydroxy"] == "biomarker_vitamin_d"
    assert names["C-Reactive Protein, Cardiac"] == "biomarker_hs_crp"
    assert names["Testosterone, Total"] == "biomarker_testosterone"
    [group] = await grouped(client, user)
    assert {m["metric_type"] for m in group["biomarkers"]} == set(names.values())


async def test_a_unit_that_cannot_be_converted_keeps_its_own_series(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await uploaded(client, user, uk_report())
    metric = ok(
        await client.post(
            f"{API}/metrics",
            headers=user.headers,
            json={"metric_type": "biomarker_glucose", "value": 95, "unit": "mg%", "timestamp": "2026-01-05T08:00:00Z"},
        ),
        201,
    )
    assert (metric["metric_type"], metric["unit"]) == ("biomarker_glucose_mg_pct", "mg%")
    assert [m["value"] for m in await _oldest_first(client, user, "biomarker_glucose")] == [5.4]


async def test_a_lab_value_recorded_by_hand_in_mg_dl_joins_the_series_converted(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    body = ok(
        await client.post(
            f"{API}/metrics",
            headers=user.headers,
            json={
                "metric_type": "biomarker_glucose",
                "value": 90,
                "unit": "mg/dL",
                "timestamp": "2026-01-05T08:00:00Z",
            },
        ),
        201,
    )
    assert (body["metric_type"], body["unit"], body["original_value"], body["original_unit"]) == (
        "biomarker_glucose",
        "mmol/L",
        90.0,
        "mg/dL",
    )
    assert body["value"] == pytest.approx(4.9956, abs=1e-3)
