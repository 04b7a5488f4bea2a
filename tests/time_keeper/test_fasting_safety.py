"""A health profile that rules fasting out stops the timer from starting a fast (with the reasons),
unless a doctor has approved fasting."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from src.core.clock import FrozenClock
from tests.factories import User, anonymous_user
from tests.time_keeper.helpers import ACTIVE, HEALTH, WINDOWS, assert_problem, iso, ok, open_window


async def _health(client: httpx.AsyncClient, user: User, **fields: object) -> None:
    ok(await client.patch(HEALTH, headers=user.headers, json=fields))


@pytest.mark.parametrize(
    "conditions", [["pregnant"], ["eating_disorder_history"], ["diabetes_type1"], ["breastfeeding"]]
)
async def test_unsafe_condition_refuses_a_fast_with_409_and_the_reasons(
    app: FastAPI, client: httpx.AsyncClient, conditions: list[str]
) -> None:
    user = await anonymous_user(app)
    await _health(client, user, conditions=conditions)

    response = await client.post(WINDOWS, headers=user.headers, json={"window_type": "fast", "protocol": "16:8"})

    body = assert_problem(response, 409, "FASTING_NOT_SAFE")
    assert body["reasons"]
    assert all(isinstance(reason, str) and reason for reason in body["reasons"])
    assert body["unsafe_conditions"] == conditions
    assert ok(await client.get(ACTIVE, headers=user.headers)) is None


async def test_logging_a_past_fast_is_refused_too_when_fasting_is_unsafe(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    user = await anonymous_user(app)
    await _health(client, user, conditions=["pregnant"])

    response = await client.post(
        WINDOWS,
        headers=user.headers,
        json={
            "window_type": "fast",
            "start_time": iso(clock.now() - timedelta(hours=16)),
            "end_time": iso(clock.now()),
        },
    )

    assert_problem(response, 409, "FASTING_NOT_SAFE")
    assert ok(await client.get(WINDOWS, headers=user.headers)) == []


async def test_doctor_approval_allows_fasting_despite_the_condition(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await _health(client, user, conditions=["pregnant"], doctor_approved_fasting=True)

    fast = await open_window(client, user, protocol="16:8")

    assert fast["state"] == "active"


async def test_removing_the_condition_allows_fasting_again(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await _health(client, user, conditions=["pregnant"])
    assert_problem(
        await client.post(WINDOWS, headers=user.headers, json={"window_type": "fast"}), 409, "FASTING_NOT_SAFE"
    )
    await _health(client, user, conditions=[])

    fast = await open_window(client, user)

    assert fast["state"] == "active"


async def test_a_caution_condition_does_not_block_a_fast(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    safety = ok(await client.patch(HEALTH, headers=user.headers, json={"conditions": ["heart_condition"]}))
    assert safety["fasting_safe"] is True

    fast = await open_window(client, user)

    assert fast["state"] == "active"


async def test_unsafe_condition_does_not_block_other_windows(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await _health(client, user, conditions=["pregnant"])

    workout = await open_window(client, user, window_type="workout")
    eating = await open_window(client, user, window_type="eating")

    assert workout["state"] == eating["state"] == "active"


async def test_the_reasons_read_as_sentences(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    await _health(client, user, conditions=["pregnant", "diabetes_type2"])
    response = await client.post(WINDOWS, headers=user.headers, json={"window_type": "fast"})
    reasons = assert_problem(response, 409, "FASTING_NOT_SAFE")["reasons"]
    assert "Fasting is not recommended during pregnancy: please consult a doctor before fasting." in reasons
    assert "With type 2 diabetes, consult your doctor before fasting." in reasons
