"""Inputs are taken as sent, never coerced into something else: `true` is not a number, a number
is not an instant, dates are within sane bounds, and a reference range is in order."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import anonymous_user
from tests.http import assert_problem, ok

API = "/api/v1"


@pytest.mark.parametrize(
    "body",
    [
        {"target_date": "9999-12-31"},
        {"target_date": "0001-01-01"},
        {"weekly_workout_goal": True},
        {"daily_step_goal": False},
    ],
)
async def test_goals_refuse_absurd_dates_and_booleans_as_numbers(
    app: FastAPI, client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    user = await anonymous_user(app)
    assert_problem(await client.patch(f"{API}/profile/goals", headers=user.headers, json=body), 422)


async def test_goals_take_a_plausible_date(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    goals = ok(await client.patch(f"{API}/profile/goals", headers=user.headers, json={"target_date": "2027-06-01"}))
    assert goals["target_date"] == "2027-06-01"


async def test_a_consultation_date_out_of_bounds_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    body = {"doctor_consultation_date": "3026-01-01"}
    assert_problem(await client.patch(f"{API}/profile/health", headers=user.headers, json=body), 422)


async def test_a_rating_of_true_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    workouts = ok(await client.get(f"{API}/content/workouts", headers=user.headers))
    workout_id = workouts[0]["id"] if isinstance(workouts, list) else workouts["items"][0]["id"]
    url = f"{API}/content/workouts/{workout_id}/rating"
    assert_problem(await client.post(url, headers=user.headers, json={"rating": True}), 422)


@pytest.mark.parametrize(
    "body",
    [
        {"metric_type": "weight_kg", "value": 80, "timestamp": 1767225600},
        {"metric_type": "weight_kg", "value": 80, "timestamp": 1767225600.5},
        {"metric_type": "biomarker_glucose", "value": 5, "reference_low": 7, "reference_high": 4},
        {"metric_type": "weight_kg", "value": True},
    ],
)
async def test_metrics_refuse_numeric_timestamps_booleans_and_reversed_ranges(
    app: FastAPI, client: httpx.AsyncClient, body: dict[str, object]
) -> None:
    user = await anonymous_user(app)
    assert_problem(await client.post(f"{API}/metrics", headers=user.headers, json=body), 422)
    body = {k: v for k, v in body.items() if k not in ("timestamp", "reference_low", "reference_high")}
    if body["value"] is not True:  # the same reading without the faulty field is taken
        ok(await client.post(f"{API}/metrics", headers=user.headers, json=body), 201)


async def test_a_time_window_refuses_a_numeric_end(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    body = {"window_type": "fast", "scheduled_end": 1767225600}
    response = await client.post(f"{API}/time-keeper/windows", headers=user.headers, json=body)
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert problem["errors"][0]["loc"] == ["body", "scheduled_end"]
