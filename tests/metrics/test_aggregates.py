"""GET /metrics/aggregate, /summary and /biomarkers/grouped: computed right, null (or zero) when
there is nothing, lab results grouped by the test date in the person's own time zone."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import User, anonymous_user
from tests.metrics.helpers import AGGREGATE, GROUPED, SUMMARY, assert_problem, ok, record, set_timezone, utc

STEPS = ((1, 1000), (2, 2500), (3, 4000), (4, 301))


async def log_steps(client: httpx.AsyncClient, user: User) -> None:
    for day, value in STEPS:
        await record(client, user, "steps", value, timestamp=utc(3, day, 9))


async def aggregate(client: httpx.AsyncClient, user: User, operation: str, **params: str) -> Any:
    return ok(
        await client.get(
            AGGREGATE, headers=user.headers, params={"metric_type": "steps", "operation": operation, **params}
        )
    )


# /aggregate --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("operation", "expected"), [("sum", 7801.0), ("avg", 1950.25), ("min", 301.0), ("max", 4000.0), ("count", 4.0)]
)
async def test_aggregate_computes_the_operation_over_every_point(
    app: FastAPI, client: httpx.AsyncClient, operation: str, expected: float
) -> None:
    user = await anonymous_user(app)
    await log_steps(client, user)
    body = await aggregate(client, user, operation)
    assert body == {
        "metric_type": "steps",
        "operation": operation,
        "value": expected,
        "period_start": None,
        "period_end": None,
        "data_points": 4,
    }


async def test_aggregate_is_limited_to_the_period_given(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await log_steps(client, user)
    body = await aggregate(client, user, "sum", start_time="2026-03-02T09:00:00Z", end_time="2026-03-03T09:00:00Z")
    assert (body["value"], body["data_points"]) == (6500.0, 2)
    assert (body["period_start"], body["period_end"]) == ("2026-03-02T09:00:00Z", "2026-03-03T09:00:00Z")


async def test_aggregate_is_null_when_there_are_no_points(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    assert await aggregate(client, user, "sum") is None
    await log_steps(client, user)
    assert await aggregate(client, user, "max", start_time="2026-03-05T00:00:00Z") is None


async def test_aggregate_never_counts_another_persons_points(app: FastAPI, client: httpx.AsyncClient) -> None:
    me, other = await anonymous_user(app), await anonymous_user(app)
    await log_steps(client, other)
    await record(client, me, "steps", 10)
    assert (await aggregate(client, me, "sum"))["value"] == 10.0


@pytest.mark.parametrize("operation", ["median", "SUM", ""])
async def test_aggregate_unknown_operation_is_refused(app: FastAPI, client: httpx.AsyncClient, operation: str) -> None:
    user = await anonymous_user(app)
    response = await client.get(
        AGGREGATE, headers=user.headers, params={"metric_type": "steps", "operation": operation}
    )
    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_aggregate_end_before_start_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.get(
        AGGREGATE,
        headers=user.headers,
        params={
            "metric_type": "steps",
            "operation": "sum",
            "start_time": "2026-03-05T00:00:00Z",
            "end_time": "2026-03-01T00:00:00Z",
        },
    )
    assert_problem(response, 422, "INVALID_PERIOD")


# /summary ----------------------------------------------------------------------------------------


async def test_summary_gives_latest_min_max_average_and_count(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await log_steps(client, user)
    await record(client, user, "steps", 3333, timestamp=utc(2, 20, 9))  # oldest, not the latest
    body = ok(await client.get(SUMMARY, headers=user.headers, params={"metric_type": "steps"}))
    assert body == {
        "metric_type": "steps",
        "unit": "count",
        "latest_value": 301.0,
        "latest_timestamp": "2026-03-04T09:00:00Z",
        "min_value": 301.0,
        "max_value": 4000.0,
        "avg_value": 2226.8,
        "total_entries": 5,
    }


async def test_summary_of_nothing_is_zero_entries_and_nulls(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    body = ok(await client.get(SUMMARY, headers=user.headers, params={"metric_type": "steps"}))
    assert body == {
        "metric_type": "steps",
        "unit": "count",
        "latest_value": None,
        "latest_timestamp": None,
        "min_value": None,
        "max_value": None,
        "avg_value": None,
        "total_entries": 0,
    }


# /biomarkers/grouped -----------------------------------------------------------------------------


async def lab_result(client: httpx.AsyncClient, user: User, name: str, at: str, flag: str | None = None) -> None:
    await record(client, user, f"biomarker_{name}", 1.0, timestamp=at, **({"flag": flag} if flag else {}))


async def grouped(client: httpx.AsyncClient, user: User, **params: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ok(await client.get(GROUPED, headers=user.headers, params=params))
    return rows


async def test_results_are_grouped_by_test_date_in_the_persons_time_zone(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """Auckland is UTC+13 in March: 23:30 UTC on the 8th is lunchtime on the 9th there."""
    user = await anonymous_user(app)
    await set_timezone(client, user, "Pacific/Auckland")
    await lab_result(client, user, "ldl", "2026-03-08T23:30:00Z")
    await lab_result(client, user, "hdl", "2026-03-09T05:00:00Z")
    await lab_result(client, user, "tsh", "2026-03-08T10:00:00Z")  # 23:00 on the 8th in Auckland
    groups = await grouped(client, user)
    assert [(g["test_date"], g["biomarker_count"]) for g in groups] == [("2026-03-09", 2), ("2026-03-08", 1)]
    assert sorted(m["metric_type"] for m in groups[0]["biomarkers"]) == ["biomarker_hdl", "biomarker_ldl"]
    assert [m["metric_type"] for m in groups[1]["biomarkers"]] == ["biomarker_tsh"]


async def test_results_group_by_utc_date_for_a_person_in_utc(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await lab_result(client, user, "ldl", "2026-03-08T23:30:00Z")
    await lab_result(client, user, "tsh", "2026-03-08T10:00:00Z")
    await lab_result(client, user, "hdl", "2026-03-09T05:00:00Z")
    groups = await grouped(client, user)
    assert [(g["test_date"], g["biomarker_count"]) for g in groups] == [("2026-03-09", 1), ("2026-03-08", 2)]


async def test_unflagged_results_count_as_neither_normal_nor_abnormal(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    at = "2026-03-05T08:00:00Z"
    for name, flag in (("a", "normal"), ("b", "normal"), ("c", "low"), ("d", "high"), ("e", "abnormal"), ("f", None)):
        await lab_result(client, user, name, at, flag)
    await lab_result(client, user, "g", "2026-03-05T08:05:00Z")
    [group] = await grouped(client, user)
    assert {k: group[k] for k in ("biomarker_count", "normal_count", "abnormal_count", "unflagged_count")} == {
        "biomarker_count": 7,
        "normal_count": 2,
        "abnormal_count": 3,
        "unflagged_count": 2,
    }


async def test_groups_come_newest_date_first_up_to_the_limit(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    for day in (3, 7, 1, 5):
        await lab_result(client, user, "ldl", f"2026-03-0{day}T08:00:00Z")
        await lab_result(client, user, "hdl", f"2026-03-0{day}T08:00:00Z")
    assert [g["test_date"] for g in await grouped(client, user)] == [
        "2026-03-07",
        "2026-03-05",
        "2026-03-03",
        "2026-03-01",
    ]
    limited = await grouped(client, user, limit=2)
    assert [(g["test_date"], g["biomarker_count"]) for g in limited] == [("2026-03-07", 2), ("2026-03-05", 2)]


async def test_grouping_holds_only_the_callers_lab_results(app: FastAPI, client: httpx.AsyncClient) -> None:
    me, other = await anonymous_user(app), await anonymous_user(app)
    await record(client, me, "weight_kg", 80.0)
    await record(client, me, "custom_biomarker_like", 1.0)
    await lab_result(client, other, "ldl", "2026-03-05T08:00:00Z")
    assert await grouped(client, me) == []


@pytest.mark.parametrize("limit", [0, 101])
async def test_grouping_limit_outside_1_to_100_is_refused(app: FastAPI, client: httpx.AsyncClient, limit: int) -> None:
    user = await anonymous_user(app)
    assert_problem(await client.get(GROUPED, headers=user.headers, params={"limit": limit}), 422, "VALIDATION_ERROR")
