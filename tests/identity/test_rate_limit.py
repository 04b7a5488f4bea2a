"""The AUTH rate limit (5 per minute, 20 per hour) on sign-in, keyed by the client's address.

Counters use fixed windows of real time. A burst that happens to straddle a minute boundary
is retried once from a fresh address, so the tests never depend on when they run."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import httpx
from fastapi import FastAPI

from tests.conftest import client_for
from tests.factories import fresh_ip
from tests.identity.helpers import AUTHENTICATE, REFRESH, REGISTER, assert_problem, new_device_id

# A bearer header whose payload names a subject but whose signature is garbage.
FORGED_BEARER = "Bearer x.eyJzdWIiOiJyYW5kb20ifQ.y"

Burst = Callable[[httpx.AsyncClient], Awaitable[list[httpx.Response]]]


async def _burst_in_one_window(app: FastAPI, burst: Burst) -> tuple[str, list[httpx.Response]]:
    for _ in range(2):
        ip = fresh_ip()
        window = int(time.time() // 60)
        async with client_for(app, ip) as c:
            responses = await burst(c)
        if int(time.time() // 60) == window:
            return ip, responses
    raise AssertionError("could not run the burst inside one rate-limit window")


def _wrong_login(n: int) -> dict[str, str]:
    return {"provider": "email", "email": f"victim{n}@example.com", "password": f"guess-{n}"}


async def test_sixth_sign_in_attempt_from_one_address_in_a_minute_returns_429(app: FastAPI) -> None:
    async def burst(c: httpx.AsyncClient) -> list[httpx.Response]:
        return [await c.post(AUTHENTICATE, json=_wrong_login(n)) for n in range(6)]

    _, responses = await _burst_in_one_window(app, burst)

    assert [r.status_code for r in responses[:5]] == [401] * 5
    limited = responses[5]
    body = assert_problem(limited, 429, "RATE_LIMITED")
    retry_after = int(limited.headers["retry-after"])
    assert 1 <= retry_after <= 60
    assert body["retry_after"] == retry_after


async def test_successful_sign_ins_count_toward_the_limit(app: FastAPI) -> None:
    device_id = new_device_id()

    async def burst(c: httpx.AsyncClient) -> list[httpx.Response]:
        body = {"provider": "anonymous", "token": device_id}
        return [await c.post(AUTHENTICATE, json=body) for _ in range(6)]

    _, responses = await _burst_in_one_window(app, burst)

    assert [r.status_code for r in responses] == [200] * 5 + [429]


async def test_forged_unsigned_bearer_header_does_not_get_a_fresh_bucket(app: FastAPI) -> None:
    async def burst(c: httpx.AsyncClient) -> list[httpx.Response]:
        plain = [await c.post(AUTHENTICATE, json=_wrong_login(n)) for n in range(5)]
        forged = await c.post(AUTHENTICATE, json=_wrong_login(5), headers={"Authorization": FORGED_BEARER})
        return [*plain, forged]

    _, responses = await _burst_in_one_window(app, burst)

    assert [r.status_code for r in responses[:5]] == [401] * 5
    assert_problem(responses[5], 429, "RATE_LIMITED")


async def test_forged_bearer_headers_with_different_subjects_share_the_address_bucket(app: FastAPI) -> None:
    forged = [
        "Bearer x.eyJzdWIiOiJyYW5kb20tMSJ9.y",  # {"sub":"random-1"}
        "Bearer x.eyJzdWIiOiJyYW5kb20tMiJ9.y",
        "Bearer x.eyJzdWIiOiJyYW5kb20tMyJ9.y",
        "Bearer x.eyJzdWIiOiJyYW5kb20tNCJ9.y",
        "Bearer x.eyJzdWIiOiJyYW5kb20tNSJ9.y",
        "Bearer x.eyJzdWIiOiJyYW5kb20tNiJ9.y",
    ]

    async def burst(c: httpx.AsyncClient) -> list[httpx.Response]:
        return [
            await c.post(AUTHENTICATE, json=_wrong_login(n), headers={"Authorization": header})
            for n, header in enumerate(forged)
        ]

    _, responses = await _burst_in_one_window(app, burst)

    assert_problem(responses[5], 429, "RATE_LIMITED")


async def test_limit_of_one_address_does_not_affect_another(app: FastAPI) -> None:
    async def burst(c: httpx.AsyncClient) -> list[httpx.Response]:
        return [await c.post(AUTHENTICATE, json=_wrong_login(n)) for n in range(6)]

    _, responses = await _burst_in_one_window(app, burst)
    assert responses[5].status_code == 429

    async with client_for(app, fresh_ip()) as other:
        response = await other.post(AUTHENTICATE, json={"provider": "anonymous", "token": new_device_id()})

    assert response.status_code == 200, response.text


async def test_register_is_limited_per_address(app: FastAPI) -> None:
    async def burst(c: httpx.AsyncClient) -> list[httpx.Response]:
        return [
            await c.post(REGISTER, json={"email": f"bulk{n}@example.com", "password": "bulk password"})
            for n in range(6)
        ]

    _, responses = await _burst_in_one_window(app, burst)

    assert [r.status_code for r in responses[:5]] == [201] * 5
    assert_problem(responses[5], 429, "RATE_LIMITED")


async def test_refresh_is_limited_per_address(app: FastAPI) -> None:
    async def burst(c: httpx.AsyncClient) -> list[httpx.Response]:
        return [await c.post(REFRESH, json={"refresh_token": f"guessed-token-{n}"}) for n in range(6)]

    _, responses = await _burst_in_one_window(app, burst)

    assert [r.status_code for r in responses[:5]] == [401] * 5
    assert_problem(responses[5], 429, "RATE_LIMITED")


async def test_bodies_that_are_not_json_count_toward_the_limit(app: FastAPI) -> None:
    async def burst(c: httpx.AsyncClient) -> list[httpx.Response]:
        broken = [
            await c.post(AUTHENTICATE, content=b"{", headers={"content-type": "application/json"}) for _ in range(5)
        ]
        return [*broken, await c.post(AUTHENTICATE, json={"provider": "anonymous", "token": new_device_id()})]

    _, responses = await _burst_in_one_window(app, burst)

    assert [r.status_code for r in responses[:5]] == [422] * 5
    assert_problem(responses[5], 429, "RATE_LIMITED")


async def test_an_invalid_json_body_counts_once(app: FastAPI) -> None:
    async def burst(c: httpx.AsyncClient) -> list[httpx.Response]:
        return [await c.post(AUTHENTICATE, json={"provider": "carrier-pigeon", "token": "x"}) for _ in range(6)]

    _, responses = await _burst_in_one_window(app, burst)

    assert [r.status_code for r in responses[:5]] == [422] * 5
    assert_problem(responses[5], 429, "RATE_LIMITED")
