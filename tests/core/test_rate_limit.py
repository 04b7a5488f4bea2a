"""Rate limits: every route is limited (a preset or the default), per verified caller, in memory or
in Redis shared by every worker."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from src.core.clock import FrozenClock
from src.core.rate_limit import Limit, RateLimiter, RedisStorage, client_ip, parse_limits
from src.main import create_app
from tests.conftest import client_for, make_settings
from tests.factories import anonymous_user

ME = "/api/v1/identity/me"
REDIS_URL = "redis://127.0.0.1:6379/15"
# Tests sharing the Redis database run on one xdist worker.
pytestmark = pytest.mark.xdist_group("redis")
# An hour-long window, so that a window boundary cannot fall in the middle of a test.
DEFAULT = "3/hour"


@pytest.fixture
def settings_overrides(request: pytest.FixtureRequest) -> dict[str, object]:
    overrides: dict[str, object] = {"rate_limit_default": DEFAULT}
    overrides.update(getattr(request, "param", {}))
    return overrides


def _forged_token(sub: str) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': sub, 'type': 'access'})}.c2lnbmF0dXJl"


async def test_fourth_request_over_default_limit_returns_429_with_retry_after(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    for _ in range(3):
        assert (await client.get(ME, headers=user.headers)).status_code == 200

    response = await client.get(ME, headers=user.headers)

    assert response.status_code == 429
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "RATE_LIMITED"
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 3600
    assert body["retry_after"] == retry_after
    assert body["request_id"] == response.headers["x-request-id"]


async def test_another_user_is_not_affected_by_a_spent_bucket(app: FastAPI, client: httpx.AsyncClient) -> None:
    greedy = await anonymous_user(app)
    patient = await anonymous_user(app)
    for _ in range(4):
        await client.get(ME, headers=greedy.headers)

    response = await client.get(ME, headers=patient.headers)

    assert response.status_code == 200


async def test_users_behind_one_address_have_separate_buckets(app: FastAPI) -> None:
    first = await anonymous_user(app)
    second = await anonymous_user(app)
    async with client_for(app, "192.0.2.10") as office:
        for _ in range(3):
            assert (await office.get(ME, headers=first.headers)).status_code == 200
        assert (await office.get(ME, headers=first.headers)).status_code == 429

        response = await office.get(ME, headers=second.headers)

    assert response.status_code == 200


async def test_forged_tokens_share_the_callers_address_bucket(client: httpx.AsyncClient) -> None:
    """A token with a made-up subject is not verified, so it cannot buy a fresh bucket."""
    for n in range(3):
        response = await client.get(ME, headers={"Authorization": f"Bearer {_forged_token(f'random-{n}')}"})
        assert response.status_code == 401

    response = await client.get(ME, headers={"Authorization": f"Bearer {_forged_token('random-final')}"})

    assert response.status_code == 429


async def test_buckets_are_per_route(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    for _ in range(4):
        await client.get(ME, headers=user.headers)

    response = await client.get("/api/v1/events", headers=user.headers)

    assert response.status_code == 200


async def test_anonymous_caller_is_limited_by_address(client: httpx.AsyncClient, app: FastAPI) -> None:
    for _ in range(3):
        await client.get(ME)

    limited = await client.get(ME)
    async with client_for(app, "198.51.100.7") as elsewhere:
        other = await elsewhere.get(ME)

    assert limited.status_code == 429
    assert other.status_code == 401


async def test_route_with_preset_uses_it_instead_of_default(client: httpx.AsyncClient) -> None:
    statuses = [(await client.get("/health")).status_code for _ in range(10)]

    assert statuses == [200] * 10


@pytest.mark.parametrize("settings_overrides", [{"rate_limit_enabled": False}], indirect=True)
async def test_disabled_rate_limiting_lets_every_request_through(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)

    statuses = [(await client.get(ME, headers=user.headers)).status_code for _ in range(6)]

    assert statuses == [200] * 6


@pytest.mark.parametrize("settings_overrides", [{"trusted_proxies": ["10.0.0.1"]}], indirect=True)
async def test_forwarded_address_from_trusted_proxy_gets_its_own_bucket(client: httpx.AsyncClient) -> None:
    for _ in range(3):
        await client.get(ME, headers={"X-Forwarded-For": "203.0.113.1"})
    spent = await client.get(ME, headers={"X-Forwarded-For": "203.0.113.1"})

    fresh = await client.get(ME, headers={"X-Forwarded-For": "203.0.113.2"})

    assert spent.status_code == 429
    assert fresh.status_code == 401


@pytest.mark.parametrize("settings_overrides", [{"trusted_proxies": ["10.0.0.1"]}], indirect=True)
async def test_forwarded_address_from_untrusted_peer_is_ignored(app: FastAPI) -> None:
    async with client_for(app, "198.51.100.20") as direct:
        for n in range(3):
            await direct.get(ME, headers={"X-Forwarded-For": f"203.0.113.{n + 1}"})

        response = await direct.get(ME, headers={"X-Forwarded-For": "203.0.113.99"})

    assert response.status_code == 429


# Shared storage ---------------------------------------------------------------------------------


@pytest.fixture
async def redis_db() -> AsyncIterator[str]:
    """The shared Redis database. Nothing is reset: every test counts under keys of its own (a new
    identity, a random key), so test runs sharing the server cannot disturb each other."""
    storage = RedisStorage(REDIS_URL)
    try:
        await storage.hit(f"probe:{uuid.uuid4()}", 1)  # fails here, not mid-test, without Redis
        yield REDIS_URL
    finally:
        await storage.close()


@pytest.mark.usefixtures("redis_db")
async def test_two_app_instances_share_the_counter_through_redis(
    engine: AsyncEngine, database_url: str, clock: FrozenClock
) -> None:
    settings = make_settings(database_url, redis_url=REDIS_URL, rate_limit_default=DEFAULT)
    first = create_app(settings, clock=clock, engine=engine)
    second = create_app(settings, clock=clock, engine=engine)
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        user = await anonymous_user(first)
        async with client_for(first) as a, client_for(second) as b:
            assert (await a.get(ME, headers=user.headers)).status_code == 200
            assert (await b.get(ME, headers=user.headers)).status_code == 200
            assert (await a.get(ME, headers=user.headers)).status_code == 200

            response = await b.get(ME, headers=user.headers)

    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1


async def test_redis_outage_lets_requests_through(engine: AsyncEngine, database_url: str, clock: FrozenClock) -> None:
    settings = make_settings(database_url, redis_url="redis://127.0.0.1:1/0", rate_limit_default=DEFAULT)
    application = create_app(settings, clock=clock, engine=engine)
    async with application.router.lifespan_context(application):
        user = await anonymous_user(application)
        async with client_for(application) as c:
            statuses = [(await c.get(ME, headers=user.headers)).status_code for _ in range(5)]

    assert statuses == [200] * 5


@pytest.mark.usefixtures("redis_db")
async def test_redis_storage_counts_hits_in_a_window() -> None:
    storage = RedisStorage(REDIS_URL)
    try:
        key = f"unit:{uuid.uuid4()}"
        counts = [(await storage.hit(key, 60))[0] for _ in range(3)]
        _, reset_in = await storage.hit(key, 60)
    finally:
        await storage.close()

    assert counts == [1, 2, 3]
    assert 0 < reset_in <= 60


# Limit specifications ---------------------------------------------------------------------------


def test_parse_limits_reads_several_windows() -> None:
    assert parse_limits("5/minute;20/hour") == (Limit(5, 60), Limit(20, 3600))


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("1/second", Limit(1, 1)),
        ("100/day", Limit(100, 86400)),
        ("10 / minutes", Limit(10, 60)),
        ("3/2 hours", Limit(3, 7200)),
    ],
)
def test_parse_limits_accepts_units_and_multipliers(spec: str, expected: Limit) -> None:
    assert parse_limits(spec) == (expected,)


@pytest.mark.parametrize(
    "spec",
    ["", "five/minute", "5/fortnight", "5 per minute", "5/minute;", "/minute", "5/minute,20/hour", "-1/minute"],
)
def test_parse_limits_rejects_bad_specs(spec: str) -> None:
    with pytest.raises(ValueError, match="bad rate limit"):
        parse_limits(spec)


def test_bad_default_limit_is_refused_when_the_limiter_is_built() -> None:
    from src.core.rate_limit import MemoryStorage

    with pytest.raises(ValueError, match="bad rate limit"):
        RateLimiter(MemoryStorage(), default="lots")


# Client address ----------------------------------------------------------------------------------


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return Request({"type": "http", "client": (peer, 40000), "headers": headers})


def test_client_ip_ignores_forwarded_for_from_untrusted_peer() -> None:
    assert client_ip(_request("198.51.100.1", "203.0.113.9"), ["10.0.0.1"]) == "198.51.100.1"


def test_client_ip_believes_forwarded_for_from_trusted_proxy() -> None:
    assert client_ip(_request("10.0.0.1", "203.0.113.9"), ["10.0.0.1"]) == "203.0.113.9"


def test_client_ip_skips_spoofed_hops_before_the_last_untrusted_one() -> None:
    # The client wrote "6.6.6.6" itself; our two proxies appended what they saw.
    request = _request("10.0.0.1", "6.6.6.6, 203.0.113.9, 10.0.0.2")

    assert client_ip(request, ["10.0.0.1", "10.0.0.2"]) == "203.0.113.9"


def test_client_ip_falls_back_to_peer_without_forwarded_for() -> None:
    assert client_ip(_request("10.0.0.1"), ["10.0.0.1"]) == "10.0.0.1"
