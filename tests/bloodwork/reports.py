"""The lab reports the API tests upload, with every result they must yield, and a language
model's reading of one result."""

from __future__ import annotations

from typing import Any

from tests.bloodwork.documents import line_report, table_report, two_column_report
from tests.bloodwork.helpers import expect


def fbc_table_report() -> bytes:
    """A results table, UK date, printed flags H/L/*/A/HIGH/LOW, comparators, a date of birth."""
    return table_report(
        [
            "Northfield Pathology Laboratory",
            "Patient: Test Person    Date of birth: 01/02/1980",
            "Sample collected: 28/12/2025 09:40",
        ],
        [
            ("Haemoglobin", "145", "g/L", "130 - 170", ""),
            ("WBC", "11.8", "x10^9/L", "4.0-11.0", "H"),
            ("Platelets", "140", "x10^9/L", "150 - 400", "L"),
            ("CRP", "<0.5", "mg/L", "< 5.0", ""),
            ("eGFR", ">90", "mL/min/1.73m2", "> 60", ""),
            ("Ferritin", "15", "ug/L", "30 - 400", ""),
            ("ALT", "52", "U/L", "0 - 40", "*"),
            ("LDL Cholesterol", "3.4", "mmol/L", "< 3.0", "A"),
            ("HbA1c", "48", "mmol/mol", "20-41", "HIGH"),
            ("Vitamin D", "45", "nmol/L", "50 - 175", "LOW"),
        ],
    )


HAEMOGLOBIN_145 = expect(
    "Haemoglobin", "haemoglobin", "biomarker_haemoglobin", 145.0, "145", "g/L", 130.0, 170.0, "normal"
)

# How a language model reports "Haemoglobin 145 g/L (130 to 170)": HAEMOGLOBIN_145 once checked.
MODEL_HAEMOGLOBIN_145: dict[str, Any] = {
    "name": "Haemoglobin",
    "value": 145,
    "value_text": "145",
    "unit": "g/L",
    "reference_low": 130,
    "reference_high": 170,
    "flag": None,
}

FBC_TABLE_RESULTS: list[dict[str, Any]] = [
    HAEMOGLOBIN_145,
    expect("WBC", "white blood cell count", "biomarker_white_cell_count", 11.8, "11.8", "x10^9/L", 4.0, 11.0, "high"),
    expect("Platelets", "platelets", "biomarker_platelets", 140.0, "140", "x10^9/L", 150.0, 400.0, "low"),
    expect("CRP", "c-reactive protein", "biomarker_crp", 0.5, "<0.5", "mg/L", None, 5.0, "normal"),
    expect(
        "eGFR",
        "estimated glomerular filtration rate",
        "biomarker_egfr",
        90.0,
        ">90",
        "mL/min/1.73m2",
        60.0,
        None,
        "normal",
    ),
    expect("Ferritin", "ferritin", "biomarker_ferritin", 15.0, "15", "ug/L", 30.0, 400.0, "low"),
    expect("ALT", "alanine aminotransferase", "biomarker_alt", 52.0, "52", "U/L", 0.0, 40.0, "abnormal"),
    expect(
        "LDL Cholesterol",
        "low density lipoprotein cholesterol",
        "biomarker_ldl_cholesterol",
        3.4,
        "3.4",
        "mmol/L",
        None,
        3.0,
        "abnormal",
    ),
    expect("HbA1c", "haemoglobin a1c", "biomarker_hba1c", 48.0, "48", "mmol/mol", 20.0, 41.0, "high"),
    expect("Vitamin D", "vitamin d", "biomarker_vitamin_d", 45.0, "45", "nmol/L", 50.0, 175.0, "low"),
]


def two_column_text_report() -> bytes:
    """Two columns of results side by side, ISO date, abbreviations."""
    return two_column_report(
        ["Riverside Clinic Haematology", "Collected: 2025-06-03"],
        ["Hb 150 g/L (130-170)", "Sodium 140 mmol/L 133-146", "K 5.6 mmol/L 3.5-5.3 H"],
        ["LDL-C 2.9 mmol/L < 3.0", "Bili 4 umol/L 0 - 21", "TSH 2.1 mU/L 0.27-4.2"],
    )


TWO_COLUMN_RESULTS: list[dict[str, Any]] = [
    expect("Hb", "haemoglobin", "biomarker_haemoglobin", 150.0, "150", "g/L", 130.0, 170.0, "normal"),
    expect(
        "LDL-C",
        "low density lipoprotein cholesterol",
        "biomarker_ldl_cholesterol",
        2.9,
        "2.9",
        "mmol/L",
        None,
        3.0,
        "normal",
    ),
    expect("Sodium", "sodium", "biomarker_sodium", 140.0, "140", "mmol/L", 133.0, 146.0, "normal"),
    expect("Bili", "bilirubin", "biomarker_bilirubin", 4.0, "4", "umol/L", 0.0, 21.0, "normal"),
    expect("K", "potassium", "biomarker_potassium", 5.6, "5.6", "mmol/L", 3.5, 5.3, "high"),
    expect("TSH", "thyroid stimulating hormone", "biomarker_tsh", 2.1, "2.1", "mU/L", 0.27, 4.2, "normal"),
]


def line_by_line_report(collected: str = "Collection date: 05 Jan 2026") -> bytes:
    """One result per line, a written-out month, synonyms, a comparator below the range."""
    return line_report(
        [
            "St Anne's Hospital Biochemistry",
            "Date of birth: 14/07/1975",
            collected,
            "HGB: 138 g/L 120-160",
            "Creatinine 92 umol/L 59-104",
            "Triglycerides 2.1 mmol/L < 1.7 H",
            "Vitamin B12 <150 ng/L 197-771",
            "Total Cholesterol 5.9 mmol/L < 5.0",
            "Page 1 of 1",
        ]
    )


LINE_RESULTS: list[dict[str, Any]] = [
    expect("HGB", "haemoglobin", "biomarker_haemoglobin", 138.0, "138", "g/L", 120.0, 160.0, "normal"),
    expect("Creatinine", "creatinine", "biomarker_creatinine", 92.0, "92", "umol/L", 59.0, 104.0, "normal"),
    expect("Triglycerides", "triglycerides", "biomarker_triglycerides", 2.1, "2.1", "mmol/L", None, 1.7, "high"),
    expect("Vitamin B12", "vitamin b12", "biomarker_vitamin_b12", 150.0, "<150", "ng/L", 197.0, 771.0, "low"),
    expect(
        "Total Cholesterol", "total cholesterol", "biomarker_total_cholesterol", 5.9, "5.9", "mmol/L", None, 5.0, "high"
    ),
]


def uk_report() -> bytes:
    """A UK laboratory's table in SI units."""
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
    """A US laboratory's table: conventional units, American names, the month first."""
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
