"""The deterministic parser, the name table and the checks on model output, on plain text."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from src.modules.bloodwork.parser import (
    ANALYTES,
    EmptyFile,
    ModelExtraction,
    UnsupportedFileType,
    find_test_date,
    json_object_from_reply,
    parse_lab_text,
    parse_lines,
    report_from_model,
    sniff_kind,
    standardise,
)
from tests.bloodwork.reports import HAEMOGLOBIN_145, MODEL_HAEMOGLOBIN_145


def one(line: str) -> dict[str, Any]:
    found = parse_lines(line)
    assert len(found) == 1, found
    return found[0].model_dump()


def reading(line: str) -> tuple[Any, ...]:
    b = one(line)
    return (
        b["metric_type"],
        b["value"],
        b["value_text"],
        b["unit"],
        b["reference_low"],
        b["reference_high"],
        b["flag"],
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Haemoglobin 145 g/L 130 - 170", ("biomarker_haemoglobin", 145.0, "145", "g/L", 130.0, 170.0, "normal")),
        ("Haemoglobin 145 g/L 130-170", ("biomarker_haemoglobin", 145.0, "145", "g/L", 130.0, 170.0, "normal")),
        ("Haemoglobin 145 g/L (130–170)", ("biomarker_haemoglobin", 145.0, "145", "g/L", 130.0, 170.0, "normal")),
        ("Haemoglobin 14.5 g/dL [13.0 to 17.0]", ("biomarker_haemoglobin", 14.5, "14.5", "g/dL", 13.0, 17.0, "normal")),
        ("CRP 3 mg/L < 5.0", ("biomarker_crp", 3.0, "3", "mg/L", None, 5.0, "normal")),
        ("CRP 7 mg/L ≤ 5.0", ("biomarker_crp", 7.0, "7", "mg/L", None, 5.0, "high")),
        ("eGFR 55 mL/min/1.73m2 > 60", ("biomarker_egfr", 55.0, "55", "mL/min/1.73m2", 60.0, None, "low")),
        ("eGFR 75 mL/min/1.73m2 ≥ 60", ("biomarker_egfr", 75.0, "75", "mL/min/1.73m2", 60.0, None, "normal")),
    ],
)
def test_reference_range_formats_are_read(line: str, expected: tuple[Any, ...]) -> None:
    assert reading(line) == expected


@pytest.mark.parametrize(
    ("line", "flag"),
    [
        ("Potassium 5.0 mmol/L 3.5-5.3 H", "high"),
        ("Potassium 5.0 mmol/L 3.5-5.3 HIGH", "high"),
        ("Potassium 5.0 mmol/L 3.5-5.3 L", "low"),
        ("Potassium 5.0 mmol/L 3.5-5.3 Low", "low"),
        ("Potassium 5.0 mmol/L 3.5-5.3 *", "abnormal"),
        ("Potassium 5.0 mmol/L 3.5-5.3 A", "abnormal"),
        ("Potassium 5.0 H mmol/L 3.5-5.3", "high"),
        ("Potassium 5.0 mmol/L (H) 3.5-5.3", "high"),
    ],
)
def test_printed_flags_win_over_the_range(line: str, flag: str) -> None:
    assert one(line)["flag"] == flag


@pytest.mark.parametrize(
    ("line", "flag"),
    [
        ("Ferritin 12 ug/L 30-400", "low"),
        ("Ferritin 30 ug/L 30-400", "normal"),
        ("Ferritin 401 ug/L 30-400", "high"),
        ("Ferritin 120 ug/L", None),
        ("CRP <0.5 mg/L < 5.0", "normal"),
        ("Vitamin B12 <150 ng/L 197 - 771", "low"),
        ("eGFR >90 mL/min/1.73m2 > 60", "normal"),
        ("Troponin >50 ng/L 0 - 50", "high"),
    ],
)
def test_flag_is_computed_from_the_range_when_none_is_printed(line: str, flag: str | None) -> None:
    assert one(line)["flag"] == flag


def test_comparator_values_keep_the_number_and_the_printed_text() -> None:
    low = one("CRP <0.5 mg/L")
    high = one("eGFR >90 mL/min/1.73m2")
    spaced = one("TSH < 0.01 mU/L 0.27-4.2")
    assert (low["value"], low["value_text"]) == (0.5, "<0.5")
    assert (high["value"], high["value_text"]) == (90.0, ">90")
    assert (spaced["value"], spaced["value_text"], spaced["flag"]) == (0.01, "<0.01", "low")


@pytest.mark.parametrize(
    "name", ["Hb", "HGB", "Haemoglobin", "Hemoglobin", "HAEMOGLOBIN", "Haemoglobin (Hb)", "Serum Hb"]
)
def test_haemoglobin_synonyms_share_one_series(name: str) -> None:
    b = one(f"{name} 140 g/L 130-170")
    assert (b["raw_name"], b["standardised_name"], b["metric_type"]) == (name, "haemoglobin", "biomarker_haemoglobin")


@pytest.mark.parametrize("name", ["LDL", "LDL-C", "LDL Cholesterol", "ldl cholesterol (calculated)", "LDL Chol"])
def test_ldl_synonyms_share_one_series(name: str) -> None:
    b = one(f"{name} 2.6 mmol/L < 3.0")
    assert b["standardised_name"] == "low density lipoprotein cholesterol"
    assert b["metric_type"] == "biomarker_ldl_cholesterol"


@pytest.mark.parametrize(
    ("name", "standardised", "metric_type"),
    [
        ("WBC", "white blood cell count", "biomarker_white_cell_count"),
        ("WCC", "white blood cell count", "biomarker_white_cell_count"),
        ("RBC", "red blood cell count", "biomarker_red_cell_count"),
        ("PLT", "platelets", "biomarker_platelets"),
        ("MCV", "mean corpuscular volume", "biomarker_mcv"),
        ("MCH", "mean corpuscular haemoglobin", "biomarker_mch"),
        ("eGFR", "estimated glomerular filtration rate", "biomarker_egfr"),
        ("ALT", "alanine aminotransferase", "biomarker_alt"),
        ("AST", "aspartate aminotransferase", "biomarker_ast"),
        ("ALP", "alkaline phosphatase", "biomarker_alp"),
        ("GGT", "gamma-glutamyl transferase", "biomarker_ggt"),
        ("Gamma GT", "gamma-glutamyl transferase", "biomarker_ggt"),
        ("Bili", "bilirubin", "biomarker_bilirubin"),
        ("TSH", "thyroid stimulating hormone", "biomarker_tsh"),
        ("HbA1c", "haemoglobin a1c", "biomarker_hba1c"),
        ("Chol", "total cholesterol", "biomarker_total_cholesterol"),
        ("HDL", "high density lipoprotein cholesterol", "biomarker_hdl_cholesterol"),
        ("HDL-C", "high density lipoprotein cholesterol", "biomarker_hdl_cholesterol"),
        ("Trig", "triglycerides", "biomarker_triglycerides"),
        ("CRP", "c-reactive protein", "biomarker_crp"),
        ("C-Reactive Protein", "c-reactive protein", "biomarker_crp"),
        ("Ferritin", "ferritin", "biomarker_ferritin"),
        ("Folate", "folate", "biomarker_folate"),
        ("Urea", "urea", "biomarker_urea"),
        ("B12", "vitamin b12", "biomarker_vitamin_b12"),
        ("Vitamin B12", "vitamin b12", "biomarker_vitamin_b12"),
        ("Na", "sodium", "biomarker_sodium"),
        ("K", "potassium", "biomarker_potassium"),
        ("Creat", "creatinine", "biomarker_creatinine"),
        ("25-OH Vitamin D", "vitamin d", "biomarker_vitamin_d"),
        ("Free T4", "free thyroxine", "biomarker_free_t4"),
    ],
)
def test_names_of_the_standard_table_are_expanded(name: str, standardised: str, metric_type: str) -> None:
    found = standardise(name)
    assert found is not None
    assert (found.name, found.metric_type, found.known) == (standardised, metric_type, True)


def test_every_table_entry_makes_a_valid_metric_type() -> None:
    for analyte in ANALYTES:
        assert re.fullmatch(r"biomarker_[a-z][a-z0-9_]{0,59}", f"biomarker_{analyte.key}"), analyte
        assert standardise(analyte.name) is not None


def test_unknown_test_names_need_a_unit_or_a_range() -> None:
    assert reading("Lipase 30 U/L 0-60") == ("biomarker_lipase", 30.0, "30", "U/L", 0.0, 60.0, "normal")
    assert reading("Apolipoprotein B 0.9 g/L") == ("biomarker_apolipoprotein_b", 0.9, "0.9", "g/L", None, None, None)
    assert parse_lines("Widget 30") == []


@pytest.mark.parametrize(
    "line",
    [
        "Page 1 of 2",
        "Age 45 years",
        "NHS Number 123 456 7890",
        "Lab No: 12345",
        "Date of birth: 01/02/1980",
        "Collected: 28/12/2024 10:30",
        "Flat 3 12 High Street",
        "Patient ID 998877 ref 12-20",
        "Sample date 2024-12-28",
    ],
)
def test_lines_that_are_not_results_are_ignored(line: str) -> None:
    assert parse_lines(line) == []


def test_two_results_on_one_line_are_both_read() -> None:
    found = parse_lines("Sodium 140 mmol/L (133-146) ALT 52 U/L 0-40 * Potassium 5.6 mmol/L 3.5-5.3 H")
    assert [(b.metric_type, b.value, b.unit, b.reference_low, b.reference_high, b.flag) for b in found] == [
        ("biomarker_sodium", 140.0, "mmol/L", 133.0, 146.0, "normal"),
        ("biomarker_alt", 52.0, "U/L", 0.0, 40.0, "abnormal"),
        ("biomarker_potassium", 5.6, "mmol/L", 3.5, 5.3, "high"),
    ]


def test_table_rows_are_read_cell_by_cell_with_the_unit_column_anywhere() -> None:
    found = parse_lines("WBC | 11.8 | x10^9/L | 4.0-11.0 | H\nPlatelets | 10^9/L | 140 | 150 - 400 | ")
    assert [(b.metric_type, b.value, b.unit, b.reference_low, b.reference_high, b.flag) for b in found] == [
        ("biomarker_white_cell_count", 11.8, "x10^9/L", 4.0, 11.0, "high"),
        ("biomarker_platelets", 140.0, "10^9/L", 150.0, 400.0, "low"),
    ]


def test_first_result_of_a_series_wins_when_the_page_text_repeats_a_table_row() -> None:
    found = parse_lines("Haemoglobin | 145 | g/L | 130 - 170 | H\nHaemoglobin 145 g/L 130 - 170")
    assert len(found) == 1
    assert found[0].flag == "high"


def test_thousands_separators_are_read_as_one_number() -> None:
    assert reading("Platelets 1,234 x10^9/L 150-400") == (
        "biomarker_platelets",
        1234.0,
        "1,234",
        "x10^9/L",
        150.0,
        400.0,
        "high",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sample collected: 28/12/2024", date(2024, 12, 28)),
        ("Collected 28-12-2024 09:15", date(2024, 12, 28)),
        ("Collection date: 28 Dec 2024", date(2024, 12, 28)),
        ("Sample date 28th December 2024", date(2024, 12, 28)),
        ("Date: 2024-12-28", date(2024, 12, 28)),
        ("Date of birth: 01/02/1980\nDate: 03/06/2025", date(2025, 6, 3)),
        ("DOB 01/02/1980 Collected 03/06/2025", date(2025, 6, 3)),
        ("Reported: 05/06/2025\nCollected: 03/06/2025", date(2025, 6, 3)),
        ("Collected\n03/06/2025", date(2025, 6, 3)),
        ("Date of birth: 01/02/1980", None),
        ("Collected: 31/02/2025", None),
        ("Haemoglobin 145 g/L", None),
    ],
)
def test_test_date_comes_from_the_labelled_date(text: str, expected: date | None) -> None:
    assert find_test_date(text) == expected


def test_whole_report_text_gives_results_date_and_laboratory() -> None:
    report = parse_lab_text(
        "Northfield Pathology Laboratory\nDate of birth: 01/02/1980\nSample collected: 28/12/2024\n"
        "Test Result Units Range\nHb 150 g/L 130-170\nCRP <0.5 mg/L < 5.0\nPage 1 of 1"
    )
    assert report.test_date == date(2024, 12, 28)
    assert report.lab_name == "Northfield Pathology Laboratory"
    assert [b.metric_type for b in report.biomarkers] == ["biomarker_haemoglobin", "biomarker_crp"]


def test_model_results_whose_numbers_are_not_in_the_text_are_dropped() -> None:
    text = "Sample collected: 28/12/2024\nYour haemoglobin was 145 g/L (normal 130 to 170). Ferritin: low."
    extraction = ModelExtraction.model_validate(
        {
            "test_date": "2024-12-28",
            "lab_name": "Invented Labs",
            "biomarkers": [
                MODEL_HAEMOGLOBIN_145,
                {"name": "Ferritin", "value": 8, "value_text": "8", "unit": "ug/L", "flag": "low"},
                {"name": "Potassium", "value": 145, "unit": "mmol/L"},
                {"name": "Haemoglobin", "value": 145, "reference_low": 99, "reference_high": 170, "unit": "mg/dL"},
                {"value": 3},
                "not an object",
            ],
        }
    )
    report = report_from_model(extraction, text)
    assert [b.model_dump() for b in report.biomarkers] == [HAEMOGLOBIN_145]
    assert report.test_date == date(2024, 12, 28)
    assert report.lab_name is None


def test_model_ranges_units_and_dates_not_in_the_text_are_dropped() -> None:
    text = "Haemoglobin 145 g/L"
    extraction = ModelExtraction.model_validate(
        {
            "test_date": "2025-01-01",
            "biomarkers": [{"name": "Hb", "value": 145, "unit": "mmol/L", "reference_low": 120, "reference_high": 160}],
        }
    )
    assert report_from_model(extraction, text).biomarkers == []  # "Hb" is not printed in the text
    extraction = ModelExtraction.model_validate(
        {
            "test_date": "2025-01-01",
            "biomarkers": [
                {"name": "Haemoglobin", "value": 145, "unit": "mmol/L", "reference_low": 120, "reference_high": 160}
            ],
        }
    )
    report = report_from_model(extraction, text)
    assert [(b.value, b.unit, b.reference_low, b.reference_high, b.flag) for b in report.biomarkers] == [
        (145.0, None, None, None, None)
    ]
    assert report.test_date is None


@pytest.mark.parametrize(
    "reply",
    [
        '{"biomarkers": []}',
        'Here you go:\n```json\n{"biomarkers": []}\n```',
        'Sure! {"biomarkers": []} Hope that helps.',
    ],
)
def test_json_is_found_in_the_model_reply(reply: str) -> None:
    assert json_object_from_reply(reply) == {"biomarkers": []}


@pytest.mark.parametrize("reply", ["I cannot read this document.", "[1, 2, 3]", "{not json}"])
def test_replies_without_a_json_object_give_none(reply: str) -> None:
    assert json_object_from_reply(reply) is None


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"%PDF-1.7\n...", "pdf"),
        (b"\n  %PDF-1.4\n...", "pdf"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "png"),
    ],
)
def test_document_type_is_read_from_the_first_bytes(data: bytes, kind: str) -> None:
    assert sniff_kind(data) == kind


@pytest.mark.parametrize("data", [b"Haemoglobin 145 g/L", b"GIF89a....", b"PK\x03\x04docx", b"<html>%PDF-</html>"])
def test_other_bytes_are_not_a_supported_document(data: bytes) -> None:
    with pytest.raises(UnsupportedFileType):
        sniff_kind(data)


def test_no_bytes_is_an_empty_file() -> None:
    with pytest.raises(EmptyFile):
        sniff_kind(b"")


def test_one_letter_symbols_of_the_table_are_results() -> None:
    found = parse_lines("K 4.1 mmol/L 3.5-5.3 Na 131 mmol/L 133-146")
    assert [(b.metric_type, b.value, b.flag) for b in found] == [
        ("biomarker_potassium", 4.1, "normal"),
        ("biomarker_sodium", 131.0, "low"),
    ]


def test_model_value_text_showing_another_number_is_replaced_by_the_checked_value() -> None:
    text = "Haemoglobin 145 g/L, repeat of 150 last year"
    extraction = ModelExtraction.model_validate(
        {"biomarkers": [{"name": "Haemoglobin", "value": 145, "value_text": "150", "unit": "g/L"}]}
    )
    [biomarker] = report_from_model(extraction, text).biomarkers
    assert (biomarker.value, biomarker.value_text) == (145.0, "145")
