"""Units are never mixed: every accepted unit is converted to the type's own on the way in, and
reads can show imperial values, converted and rounded."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from src.modules.metrics.registry import canonical, display
from tests.factories import anonymous_user
from tests.metrics.helpers import HISTORY, METRICS, SUMMARY, TREND, assert_problem, ok, record


async def test_pounds_sent_as_the_unit_of_weight_kg_are_converted(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    stored = await record(client, user, "weight_kg", 180, unit="lbs")
    assert stored["metric_type"] == "weight_kg"
    assert stored["value"] == pytest.approx(81.6466, abs=1e-4)
    assert stored["unit"] == "kg"


@pytest.mark.parametrize(
    ("metric_type", "value", "unit", "stored"),
    [
        ("weight_kg", 12, "st", 76.2035),
        ("weight_kg", 2880, "oz", 81.6466),
        ("waist_cm", 32, "in", 81.28),
        ("waist_cm", 0.8, "m", 80.0),
        ("water_ml", 16, "fl oz", 473.1765),
        ("water_ml", 1.5, "L", 1500.0),
        ("body_temperature_c", 98.6, "°F", 37.0),
        ("body_temperature_c", 37.2, "°C", 37.2),
        ("blood_glucose_mmol", 90, "mg/dL", 4.9956),
        ("sleep_hours", 450, "min", 7.5),
        ("calories_consumed", 4184, "kJ", 1000.0),
    ],
)
def test_every_accepted_unit_converts_to_the_types_own(
    metric_type: str, value: float, unit: str, stored: float
) -> None:
    assert canonical(metric_type, value, unit)[1] == pytest.approx(stored, abs=1e-4)


@pytest.mark.parametrize(("metric_type", "unit"), [("weight_kg", "cm"), ("steps", "kg"), ("waist_cm", "parsecs")])
async def test_a_unit_the_type_cannot_be_given_in_is_422_and_nothing_is_stored(
    app: FastAPI, client: httpx.AsyncClient, metric_type: str, unit: str
) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        METRICS, headers=user.headers, json={"metric_type": metric_type, "value": 50, "unit": unit}
    )
    assert_problem(response, 422, "INVALID_METRIC")
    assert ok(await client.get(HISTORY, headers=user.headers, params={"metric_type": metric_type})) == []


async def test_imperial_reads_show_converted_rounded_values(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await record(client, user, "weight_kg", 82.0, timestamp="2026-03-09T07:00:00Z")
    await record(client, user, "weight_kg", 81.0, timestamp="2026-03-10T07:00:00Z")
    for params in ({"unit_system": "imperial"}, {"unit": "lbs"}):
        rows = ok(await client.get(HISTORY, headers=user.headers, params={"metric_type": "weight_kg", **params}))
        assert [(m["value"], m["unit"]) for m in rows] == [(178.6, "lb"), (180.8, "lb")]
        latest = ok(
            await client.get(f"{METRICS}/latest", headers=user.headers, params={"metric_type": "weight_kg", **params})
        )
        assert (latest["value"], latest["unit"]) == (178.6, "lb")
    summary = ok(await client.get(SUMMARY, headers=user.headers, params={"metric_type": "weight_kg", "unit": "lb"}))
    assert (summary["unit"], summary["min_value"], summary["max_value"]) == ("lb", 178.6, 180.8)
    trend = ok(await client.get(TREND, headers=user.headers, params={"metric_type": "weight_kg", "unit": "lb"}))
    assert (trend["start_value"], trend["end_value"], trend["change_absolute"]) == (180.8, 178.6, -2.2)
    # Metric reads are unchanged.
    plain = ok(await client.get(f"{METRICS}/latest", headers=user.headers, params={"metric_type": "weight_kg"}))
    assert (plain["value"], plain["unit"]) == (81.0, "kg")


async def test_a_read_in_a_unit_the_type_has_not_is_422(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.get(HISTORY, headers=user.headers, params={"metric_type": "steps", "unit": "lbs"})
    assert_problem(response, 422, "INVALID_METRIC")


def test_display_rounds_for_reading() -> None:
    assert display("weight_kg", 82.0, "lb") == (180.8, "lb")
    assert display("body_temperature_c", 37.0, "F") == (98.6, "°F")
