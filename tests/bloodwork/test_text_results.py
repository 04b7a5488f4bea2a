"""Results printed as words ("No growth", "Negative", "Reactive") are kept as text results."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from src.modules.bloodwork.parser import parse_lines
from tests.bloodwork.documents import line_report, table_report
from tests.bloodwork.helpers import API, UPLOAD, grouped, uploaded
from tests.factories import anonymous_user

EXPORT = f"{API}/profile/export"


def test_text_results_are_read_from_lines_and_table_rows() -> None:
    found = parse_lines(
        "Urine culture: No growth\n"
        "HIV 1/2 Ab | Non-reactive | |\n"
        "Hepatitis B surface antigen Negative\n"
        "Syphilis RPR Reactive A\n"
        "Patient is well and results are normal\n"
    )
    assert [(b.raw_name, b.metric_type, b.value, b.value_text, b.flag) for b in found] == [
        ("Urine culture", "biomarker_urine_culture", None, "No growth", None),
        ("HIV 1/2 Ab", "biomarker_hiv_1_2_ab", None, "Non-reactive", None),
        ("Hepatitis B surface antigen", "biomarker_hepatitis_b_surface_antigen", None, "Negative", None),
        ("Syphilis RPR", "biomarker_syphilis_rpr", None, "Reactive", "abnormal"),
    ]


async def test_text_results_are_returned_and_kept_with_the_report(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    document = line_report(
        [
            "Northfield Pathology Laboratory",
            "Collected: 02/03/2026",
            "Haemoglobin 145 g/L 130-170",
            "Urine culture: No growth",
            "Hepatitis B surface antigen: Negative",
            "Syphilis RPR: Reactive",
        ]
    )
    body = await uploaded(client, user, document)
    texts = {b["raw_name"]: (b["value"], b["value_text"]) for b in body["biomarkers"]}
    assert texts == {
        "Haemoglobin": (145.0, "145"),
        "Urine culture": (None, "No growth"),
        "Hepatitis B surface antigen": (None, "Negative"),
        "Syphilis RPR": (None, "Reactive"),
    }
    assert body["biomarker_count"] == 4
    report = (await client.get(f"{UPLOAD}/{body['lab_report_id']}", headers=user.headers)).json()
    assert {r["raw_name"]: r["value_text"] for r in report["results"] if r["value"] is None} == {
        "Urine culture": "No growth",
        "Hepatitis B surface antigen": "Negative",
        "Syphilis RPR": "Reactive",
    }
    # The series (numbers) hold only the number.
    [group] = await grouped(client, user)
    assert [m["metric_type"] for m in group["biomarkers"]] == ["biomarker_haemoglobin"]
    # The person's data export carries them too.
    export = (await client.get(EXPORT, headers=user.headers)).json()
    [lab] = export["modules"]["bloodwork"]["lab_reports"]
    assert {r["raw_name"]: r["value_text"] for r in lab["results"]}["Urine culture"] == "No growth"
    assert (lab["test_day"], lab["date_source"], lab["source"]) == ("2026-03-02", "printed", "upload")


async def test_a_table_with_a_text_result_keeps_it(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    document = table_report(
        ["Collected: 02/03/2026"],
        [("Haemoglobin", "145", "g/L", "130 - 170", ""), ("MRSA screen", "Not detected", "", "", "")],
    )
    body = await uploaded(client, user, document)
    assert {b["raw_name"]: b["value_text"] for b in body["biomarkers"]} == {
        "Haemoglobin": "145",
        "MRSA screen": "Not detected",
    }
