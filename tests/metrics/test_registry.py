"""The metric type registry: every known type has a plausible range and a unit, imperial input is
converted, unknown types are refused unless they are custom_/biomarker_ snake_case names."""

from __future__ import annotations

import math
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from src.modules.metrics.registry import DERIVED, KNOWN, LBS_TO_KG, MetricTypeError, canonical
from tests.factories import anonymous_user
from tests.metrics.helpers import HISTORY, METRICS, assert_problem, ok, record

KNOWN_TYPES = sorted(set(KNOWN) - DERIVED)  # derived types are the server's to write


# canonical(), directly ---------------------------------------------------------------------------


@pytest.mark.parametrize("metric_type", KNOWN_TYPES)
def test_canonical_accepts_both_bounds_of_every_known_type(metric_type: str) -> None:
    info = KNOWN[metric_type]
    assert canonical(metric_type, info.minimum) == (metric_type, info.minimum, info)
    assert canonical(metric_type, info.maximum) == (metric_type, info.maximum, info)


@pytest.mark.parametrize("metric_type", KNOWN_TYPES)
def test_canonical_refuses_values_just_outside_the_range_naming_it(metric_type: str) -> None:
    info = KNOWN[metric_type]
    expected = f"between {info.minimum:g} and {info.maximum:g} {info.unit}"
    for value in (info.minimum - 0.001, info.maximum + 0.001):
        with pytest.raises(MetricTypeError, match=expected):
            canonical(metric_type, value)


def test_canonical_converts_pounds_to_kilograms() -> None:
    assert canonical("weight_lbs", 176.0) == ("weight_kg", round(176.0 * LBS_TO_KG, 4), KNOWN["weight_kg"])
    assert canonical("weight_lb", 100.0)[:2] == ("weight_kg", 45.3592)
    assert canonical("waist_in", 32.0)[:2] == ("waist_cm", 81.28)


def test_canonical_checks_converted_values_against_the_kilogram_range() -> None:
    with pytest.raises(MetricTypeError, match="weight_kg must be between 20 and 400 kg"):
        canonical("weight_lbs", 1000.0)  # 453.6 kg
    with pytest.raises(MetricTypeError, match="weight_kg must be between 20 and 400 kg"):
        canonical("weight_lbs", 44.0)  # 19.96 kg
    assert canonical("weight_lbs", 44.1)[1] == pytest.approx(20.0, abs=0.01)


def test_canonical_normalises_case_and_surrounding_spaces() -> None:
    assert canonical("  Weight_KG ", 70.0)[:2] == ("weight_kg", 70.0)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_canonical_refuses_non_finite_values(value: float) -> None:
    with pytest.raises(MetricTypeError, match="finite"):
        canonical("custom_anything", value)


def test_canonical_refuses_unknown_types_listing_the_known_ones() -> None:
    with pytest.raises(MetricTypeError, match="unknown metric type 'heart_rate'") as caught:
        canonical("heart_rate", 60.0)
    assert "weight_kg" in str(caught.value)
    assert "custom_" in str(caught.value)


@pytest.mark.parametrize(
    "metric_type", ["biomarker_ldl_cholesterol", "biomarker_hba1c", "custom_meditation_minutes", "custom_x2"]
)
def test_canonical_accepts_snake_case_custom_and_biomarker_names(metric_type: str) -> None:
    assert canonical(metric_type, 5.0) == (metric_type, 5.0, None)


@pytest.mark.parametrize(
    "metric_type",
    [
        "biomarker_",
        "biomarker_ldl cholesterol",
        "biomarker_ldl-cholesterol",
        "biomarker_1st",
        "biomarker_a%",
        "custom_",
        "custom_a%",
        "custom_a.b",
        "custom_" + "x" * 61,
    ],
)
def test_canonical_refuses_custom_and_biomarker_names_that_are_not_snake_case(metric_type: str) -> None:
    with pytest.raises(MetricTypeError, match="snake_case"):
        canonical(metric_type, 5.0)


# Through the API ---------------------------------------------------------------------------------


@pytest.mark.parametrize("metric_type", KNOWN_TYPES)
async def test_post_accepts_range_bounds_and_refuses_values_just_outside(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock, metric_type: str
) -> None:
    info = KNOWN[metric_type]
    user = await anonymous_user(app)
    low = await record(client, user, metric_type, info.minimum, timestamp=clock.now() - timedelta(hours=2))
    high = await record(client, user, metric_type, info.maximum, timestamp=clock.now() - timedelta(hours=1))
    assert (low["value"], high["value"]) == (info.minimum, info.maximum)
    for value in (info.minimum - 0.01, info.maximum + 0.01):
        response = await client.post(METRICS, headers=user.headers, json={"metric_type": metric_type, "value": value})
        body = assert_problem(response, 422, "INVALID_METRIC")
        assert f"between {info.minimum:g} and {info.maximum:g} {info.unit}" in body["detail"]
    stored = ok(await client.get(HISTORY, headers=user.headers, params={"metric_type": metric_type}))
    assert sorted(m["value"] for m in stored) == [info.minimum, info.maximum]


async def test_post_without_unit_stores_each_types_own_unit(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    writable = {name: info for name, info in KNOWN.items() if name not in DERIVED}
    units = {name: (await record(client, user, name, info.maximum))["unit"] for name, info in writable.items()}
    assert units == {name: info.unit for name, info in writable.items()}
    assert units["weight_kg"] == "kg"
    assert units["steps"] == "count"
    assert (await record(client, user, "custom_mood", 3))["unit"] is None  # no default for custom series


async def test_a_unit_a_known_type_cannot_be_given_in_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        METRICS, headers=user.headers, json={"metric_type": "body_fat_pct", "value": 21.5, "unit": "fraction"}
    )
    assert "use one of %" in assert_problem(response, 422, "INVALID_METRIC")["detail"]
    mismatch = await client.post(
        METRICS, headers=user.headers, json={"metric_type": "weight_lbs", "value": 180, "unit": "kg"}
    )
    assert_problem(mismatch, 422, "INVALID_METRIC")
    stored = await record(client, user, "body_fat_pct", 21.5, unit="%")
    assert stored["unit"] == "%"


async def test_weight_in_pounds_is_stored_as_kilograms(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    stored = await record(client, user, "weight_lbs", 176.37, unit="lbs")
    assert stored["metric_type"] == "weight_kg"
    assert stored["value"] == pytest.approx(80.0, abs=0.001)
    assert stored["unit"] == "kg"  # the value was converted: a pound label would now be wrong
    latest = ok(await client.get(f"{METRICS}/latest", headers=user.headers, params={"metric_type": "weight_kg"}))
    assert latest["id"] == stored["id"]


@pytest.mark.parametrize("pounds", [1000, 44])
async def test_weight_in_pounds_outside_the_kilogram_range_is_refused(
    app: FastAPI, client: httpx.AsyncClient, pounds: float
) -> None:
    user = await anonymous_user(app)
    response = await client.post(METRICS, headers=user.headers, json={"metric_type": "weight_lbs", "value": pounds})
    body = assert_problem(response, 422, "INVALID_METRIC")
    assert "between 20 and 400 kg" in body["detail"]
    assert ok(await client.get(HISTORY, headers=user.headers, params={"metric_type": "weight_kg"})) == []


async def test_unknown_metric_type_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.post(METRICS, headers=user.headers, json={"metric_type": "heart_rate", "value": 60})
    body = assert_problem(response, 422, "INVALID_METRIC")
    assert "unknown metric type" in body["detail"]
    assert ok(await client.get(HISTORY, headers=user.headers, params={"metric_type": "heart_rate"})) == []


@pytest.mark.parametrize("metric_type", ["custom_meditation_minutes", "biomarker_ldl_cholesterol"])
async def test_snake_case_custom_and_biomarker_names_are_accepted(
    app: FastAPI, client: httpx.AsyncClient, metric_type: str
) -> None:
    user = await anonymous_user(app)
    stored = await record(client, user, metric_type, 12.5, unit="mmol/L")
    assert (stored["metric_type"], stored["value"], stored["unit"]) == (metric_type, 12.5, "mmol/L")


@pytest.mark.parametrize(
    "metric_type", ["biomarker_LDL Cholesterol", "biomarker_", "custom_a%", "custom_mood-score", "biomarker_1x"]
)
async def test_custom_and_biomarker_names_that_are_not_snake_case_are_refused(
    app: FastAPI, client: httpx.AsyncClient, metric_type: str
) -> None:
    user = await anonymous_user(app)
    response = await client.post(METRICS, headers=user.headers, json={"metric_type": metric_type, "value": 1})
    body = assert_problem(response, 422, "INVALID_METRIC")
    assert "snake_case" in body["detail"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
async def test_non_finite_values_are_refused(app: FastAPI, client: httpx.AsyncClient, literal: str) -> None:
    user = await anonymous_user(app)
    response = await client.post(
        METRICS,
        headers={**user.headers, "Content-Type": "application/json"},
        content=f'{{"metric_type": "custom_score", "value": {literal}}}',
    )
    assert_problem(response, 422)
    assert ok(await client.get(HISTORY, headers=user.headers, params={"metric_type": "custom_score"})) == []
