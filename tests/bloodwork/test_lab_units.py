"""The conversion table: each analyte printed in each unit labs use lands in its canonical UCUM unit."""

from __future__ import annotations

import pytest

from src.modules.metrics.lab_units import CANONICAL, normalise_lab_value, ucum_code

# analyte key, value as printed, unit as printed, expected value in the canonical unit, canonical unit
CASES = [
    ("glucose", 5.4, "mmol/L", 5.4, "mmol/L"),
    ("glucose", 95, "mg/dL", 5.2731, "mmol/L"),
    ("glucose", 95, "MG/DL", 5.2731, "mmol/L"),
    ("total_cholesterol", 200, "mg/dL", 5.1720, "mmol/L"),
    ("hdl_cholesterol", 50, "mg/dL", 1.2930, "mmol/L"),
    ("ldl_cholesterol", 130, "mg/dL", 3.3618, "mmol/L"),
    ("triglycerides", 150, "mg/dL", 1.6936, "mmol/L"),
    ("haemoglobin", 145, "g/L", 145, "g/L"),
    ("haemoglobin", 14.5, "g/dL", 145, "g/L"),
    ("haemoglobin", 9.0, "mmol/L", 145.0305, "g/L"),
    ("creatinine", 80, "µmol/L", 80, "umol/L"),
    ("creatinine", 1.0, "mg/dL", 88.42, "umol/L"),
    ("testosterone", 20, "nmol/L", 20, "nmol/L"),
    ("testosterone", 577, "ng/dL", 20.0055, "nmol/L"),
    ("vitamin_d", 75, "nmol/L", 75, "nmol/L"),
    ("vitamin_d", 30, "ng/mL", 74.88, "nmol/L"),
    ("vitamin_b12", 400, "pg/mL", 295.12, "pmol/L"),
    ("vitamin_b12", 300, "pmol/L", 300, "pmol/L"),
    ("ferritin", 100, "ng/mL", 100, "ug/L"),
    ("ferritin", 100, "mcg/L", 100, "ug/L"),
    ("hba1c", 48, "mmol/mol", 48, "mmol/mol"),
    ("hba1c", 6.5, "%", 47.5198, "mmol/mol"),
    ("white_cell_count", 6.1, "x10^9/L", 6.1, "10*9/L"),
    ("white_cell_count", 6.1, "K/uL", 6.1, "10*9/L"),
]


@pytest.mark.parametrize(("key", "value", "unit", "expected", "canonical"), CASES)
def test_each_analyte_converts_to_its_canonical_unit(
    key: str, value: float, unit: str, expected: float, canonical: str
) -> None:
    lab = normalise_lab_value(key, value, unit, None, None)
    assert lab.key == key
    assert lab.unit == canonical == CANONICAL[key][0]
    assert lab.value == pytest.approx(expected, abs=0.001)


def test_the_reference_range_converts_with_the_value() -> None:
    lab = normalise_lab_value("glucose", 95, "mg/dL", 70, 99)
    assert (lab.reference_low, lab.reference_high) == (pytest.approx(3.8854, abs=1e-3), pytest.approx(5.495, abs=1e-3))
    assert lab.converted is True


def test_an_unknown_unit_keeps_a_series_of_its_own() -> None:
    lab = normalise_lab_value("glucose", 95, "mg%", None, None)
    assert (lab.key, lab.value, lab.unit, lab.converted) == ("glucose_mg_pct", 95, "mg%", False)


def test_an_analyte_without_a_table_entry_keeps_its_printed_unit() -> None:
    lab = normalise_lab_value("urine_culture_count", 3, "cfu/mL", None, None)
    assert (lab.key, lab.unit) == ("urine_culture_count", "cfu/mL")


def test_no_printed_unit_is_taken_as_the_canonical_unit() -> None:
    assert normalise_lab_value("glucose", 5.1, None, None, None).unit == "mmol/L"


def test_hba1c_below_what_the_master_equation_covers_is_not_made_negative() -> None:
    lab = normalise_lab_value("hba1c", 1.5, "%", None, None)
    assert lab.key == "hba1c_pct"
    assert lab.value == 1.5


@pytest.mark.parametrize(
    ("printed", "code"),
    [("umol/L", "umol/L"), ("μmol/l", "umol/L"), ("x10^9/L", "10*9/L"), ("10^3/uL", "10*3/uL"), ("mEq/L", "meq/L")],
)
def test_printed_units_read_as_ucum_codes(printed: str, code: str) -> None:
    assert ucum_code(printed) == code
