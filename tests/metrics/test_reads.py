"""GET /metrics/latest, /history and /by-prefix: newest first, the caller's rows only, time
filters, paging, and prefixes taken literally."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx
import pytest
from fastapi import FastAPI

from src.core.uow import UnitOfWork
from src.database import Base
from tests.factories import User, anonymous_user
from tests.metrics.helpers import (
    BY_PREFIX,
    HISTORY,
    LATEST,
    METRICS,
    assert_problem,
    in_unit_of_work,
    ok,
    record,
    utc,
)


async def values(client: httpx.AsyncClient, user: User, path: str, **params: str | int) -> list[float]:
    rows = ok(await client.get(path, headers=user.headers, params=params))
    return [row["value"] for row in rows]


async def types(client: httpx.AsyncClient, user: User, prefix: str) -> list[str]:
    rows = ok(await client.get(BY_PREFIX, headers=user.headers, params={"prefix": prefix}))
    return [row["metric_type"] for row in rows]


async def insert_legacy_row(app: FastAPI, user: User, metric_type: str, at: datetime) -> None:
    """A stored row whose type the API would no longer accept (written before types were checked)."""
    table = Base.metadata.tables["metrics"]

    async def work(uow: UnitOfWork) -> None:
        await uow.session.execute(
            table.insert().values(
                id=uuid.uuid4(),
                identity_id=uuid.UUID(user.id),
                metric_type=metric_type,
                value=1.0,
                timestamp=at,
                source="user_input",
                created_at=at,
                updated_at=at,
            )
        )

    await in_unit_of_work(app, work)


# /latest -----------------------------------------------------------------------------------------


async def test_latest_is_null_when_nothing_was_recorded(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.get(LATEST, headers=user.headers, params={"metric_type": "weight_kg"})
    assert response.status_code == 200
    assert response.json() is None


async def test_latest_is_the_newest_measurement_not_the_last_recorded(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await record(client, user, "weight_kg", 81.0, timestamp=utc(3, 9, 8))
    await record(client, user, "weight_kg", 82.0, timestamp=utc(3, 7, 8))  # entered later, measured earlier
    latest = ok(await client.get(LATEST, headers=user.headers, params={"metric_type": "Weight_KG"}))
    assert (latest["value"], latest["timestamp"]) == (81.0, "2026-03-09T08:00:00Z")


async def test_latest_never_shows_another_persons_measurement(app: FastAPI, client: httpx.AsyncClient) -> None:
    me, other = await anonymous_user(app), await anonymous_user(app)
    await record(client, me, "weight_kg", 70.0, timestamp=utc(3, 1))
    await record(client, other, "weight_kg", 99.0, timestamp=utc(3, 9))
    assert ok(await client.get(LATEST, headers=me.headers, params={"metric_type": "weight_kg"}))["value"] == 70.0


# /history ----------------------------------------------------------------------------------------


async def test_history_lists_one_type_newest_first(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    for day, value in ((3, 3000), (5, 5000), (4, 4000)):
        await record(client, user, "steps", value, timestamp=utc(3, day, 9))
    await record(client, user, "water_ml", 500, timestamp=utc(3, 6, 9))
    assert await values(client, user, HISTORY, metric_type="steps") == [5000, 4000, 3000]


async def test_history_time_filters_include_both_ends(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    for day in range(1, 8):
        await record(client, user, "steps", day * 1000, timestamp=utc(3, day, 9))
    found = await values(
        client, user, HISTORY, metric_type="steps", start_time="2026-03-03T09:00:00Z", end_time="2026-03-05T09:00:00Z"
    )
    assert found == [5000, 4000, 3000]
    assert await values(client, user, HISTORY, metric_type="steps", start_time="2026-03-06T00:00:00+00:00") == [
        7000,
        6000,
    ]
    assert await values(client, user, HISTORY, metric_type="steps", end_time="2026-03-02T12:00:00+03:00") == [
        2000,
        1000,
    ]


async def test_history_pages_with_limit_and_offset(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    for day in range(1, 8):
        await record(client, user, "steps", day * 1000, timestamp=utc(3, day, 9))
    first = await values(client, user, HISTORY, metric_type="steps", limit=3)
    second = await values(client, user, HISTORY, metric_type="steps", limit=3, offset=3)
    last = await values(client, user, HISTORY, metric_type="steps", limit=3, offset=6)
    assert (first, second, last) == ([7000, 6000, 5000], [4000, 3000, 2000], [1000])


async def test_history_end_before_start_is_refused(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    response = await client.get(
        HISTORY,
        headers=user.headers,
        params={"metric_type": "steps", "start_time": "2026-03-05T00:00:00Z", "end_time": "2026-03-04T00:00:00Z"},
    )
    assert_problem(response, 422, "INVALID_PERIOD")


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 1001}, {"offset": -1}, {"start_time": "yesterday"}])
async def test_history_out_of_range_paging_or_dates_are_refused(
    app: FastAPI, client: httpx.AsyncClient, params: dict[str, str | int]
) -> None:
    user = await anonymous_user(app)
    response = await client.get(HISTORY, headers=user.headers, params={"metric_type": "steps", **params})
    assert_problem(response, 422, "VALIDATION_ERROR")


# /by-prefix --------------------------------------------------------------------------------------


async def test_by_prefix_returns_every_type_starting_with_it_newest_first(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await record(client, user, "biomarker_ldl", 3.1, timestamp=utc(3, 1))
    await record(client, user, "biomarker_hdl", 1.4, timestamp=utc(3, 2))
    await record(client, user, "weight_kg", 80.0, timestamp=utc(3, 3))
    assert await types(client, user, "biomarker_") == ["biomarker_hdl", "biomarker_ldl"]
    assert await types(client, user, "BIOMARKER_L") == ["biomarker_ldl"]


@pytest.mark.parametrize("params", [{}, {"prefix": ""}, {"prefix": "   "}])
async def test_by_prefix_requires_a_prefix(app: FastAPI, client: httpx.AsyncClient, params: dict[str, str]) -> None:
    user = await anonymous_user(app)
    await record(client, user, "steps", 100)
    assert_problem(await client.get(BY_PREFIX, headers=user.headers, params=params), 422)


async def test_by_prefix_underscore_is_not_a_wildcard(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await record(client, user, "biomarker_ldl", 3.1, timestamp=utc(3, 1))
    await insert_legacy_row(app, user, "biomarkerx_ldl", utc(3, 2))
    await record(client, user, "custom_axb", 1, timestamp=utc(3, 3))
    await record(client, user, "steps", 100, timestamp=utc(3, 4))
    assert await types(client, user, "biomarker_") == ["biomarker_ldl"]
    assert await types(client, user, "custom_a_b") == []
    assert await types(client, user, "st_ps") == []


async def test_by_prefix_percent_matches_only_a_literal_percent(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await record(client, user, "custom_abc", 1, timestamp=utc(3, 1))
    assert await types(client, user, "custom_a%") == []
    assert await types(client, user, "%") == []
    await insert_legacy_row(app, user, "custom_a%x", utc(3, 2))
    assert await types(client, user, "custom_a%") == ["custom_a%x"]


async def test_by_prefix_filters_by_time_and_limits(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    for day in range(1, 6):
        await record(client, user, f"biomarker_m{day}", day, timestamp=utc(3, day))
    window = await values(
        client, user, BY_PREFIX, prefix="biomarker_", start_time="2026-03-02T00:00:00Z", end_time="2026-03-04T00:00:00Z"
    )
    assert window == [4, 3, 2]
    assert await values(client, user, BY_PREFIX, prefix="biomarker_", limit=2) == [5, 4]


async def test_by_prefix_never_shows_another_persons_measurements(app: FastAPI, client: httpx.AsyncClient) -> None:
    me, other = await anonymous_user(app), await anonymous_user(app)
    await record(client, other, "biomarker_ldl", 3.1)
    assert await types(client, me, "biomarker_") == []


async def test_reads_by_an_imperial_name_find_the_values_stored_in_metric_units(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    await record(client, user, "weight_lbs", 176.0, timestamp=utc(3, 1, 7))
    await record(client, user, "weight_kg", 79.0, timestamp=utc(3, 8, 7))
    latest = ok(await client.get(LATEST, headers=user.headers, params={"metric_type": "weight_lbs"}))
    assert (latest["metric_type"], latest["value"]) == ("weight_kg", 79.0)
    shown = ok(await client.get(HISTORY, headers=user.headers, params={"metric_type": "Weight_LBS"}))
    assert [m["value"] for m in shown] == [79.0, round(176 * 0.45359237, 4)]  # 176 lb stored as kg
    summary = ok(await client.get(f"{METRICS}/summary", headers=user.headers, params={"metric_type": "weight_lbs"}))
    assert (summary["metric_type"], summary["total_entries"], summary["max_value"]) == ("weight_kg", 2, 79.83)
