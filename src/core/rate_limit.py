"""Rate limiting on every route.

Each route has one or more limits ("5/minute;20/hour"): a preset named in its `openapi_extra`
(see `limits()`), else the default limit. Buckets are per route and per caller, the caller being
the *verified* identity of a valid access token, else the client IP (X-Forwarded-For is only
believed from `TRUSTED_PROXIES`). Counters are fixed windows, kept in process memory by default
and in Redis when `REDIS_URL` is set, so that several workers share them. A Redis outage fails
open (logged), rather than taking the API down.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import Request

from src.core.errors import TooManyRequests

logger = logging.getLogger("ugoki.rate_limit")

OPENAPI_KEY = "x-rate-limit"

# Presets of the product (cross_cutting rules), plus the default for every other route.
PRESETS: dict[str, str] = {
    "AUTH": "5/minute;20/hour",
    "AI_CHAT": "30/minute;200/hour",
    "AI_INSIGHT": "60/minute",
    "UPLOAD": "10/minute;50/hour",
    "SEARCH": "30/minute;300/hour",
    "GDPR": "5/hour",
    "LOOKUP": "20/minute;100/hour",
    "WRITE": "60/minute",
    "READ": "200/minute",
    "PROBE": "1200/minute",
}

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+\s*)?(second|minute|hour|day)s?\s*$")


@dataclass(frozen=True)
class Limit:
    amount: int
    seconds: int

    def __str__(self) -> str:
        return f"{self.amount} per {self.seconds} s"


def parse_limits(spec: str) -> tuple[Limit, ...]:
    out: list[Limit] = []
    for part in spec.split(";"):
        match = _SPEC.match(part)
        if not match:
            raise ValueError(f"bad rate limit {part!r}")
        multiplier = int(match.group(2)) if match.group(2) else 1
        out.append(Limit(int(match.group(1)), multiplier * _UNITS[match.group(3)]))
    return tuple(out)


# Presets whose buckets are always per client IP: sign-in routes must not hand out a fresh bucket
# with every token they issue.
IP_KEYED_PRESETS = frozenset({"AUTH"})


def limits(preset: str) -> dict[str, Any]:
    """`openapi_extra` for a route limited by a preset: `@router.post(..., openapi_extra=limits("AUTH"))`."""
    if preset not in PRESETS:
        raise ValueError(f"unknown rate limit preset {preset!r}")
    key = "ip" if preset in IP_KEYED_PRESETS else "caller"
    return {OPENAPI_KEY: {"preset": preset, "limits": PRESETS[preset], "key": key}}


def keyed_by_ip(route: Any) -> bool:
    extra = getattr(route, "openapi_extra", None) or {}
    return isinstance(extra, dict) and extra.get(OPENAPI_KEY, {}).get("key") == "ip"


class Storage(Protocol):
    async def hit(self, key: str, window: int) -> tuple[int, float]:
        """Count one hit in the current fixed window; returns (hits so far, seconds to reset)."""
        ...

    async def reserve_slot(self, key: str, interval: float) -> float:
        """Take the next free moment of a paced stream (at most one use per `interval` seconds,
        shared by everyone using `key`); returns how many seconds from now it is."""
        ...

    async def reset(self) -> None: ...


class MemoryStorage:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[float, int]] = {}
        self._next_free: dict[str, float] = {}
        self._last_sweep = time.monotonic()

    async def hit(self, key: str, window: int) -> tuple[int, float]:
        now = time.time()
        bucket = math.floor(now / window)
        reset_at = (bucket + 1) * window
        full_key = f"{key}:{window}:{bucket}"
        _, count = self._counts.get(full_key, (reset_at, 0))
        self._counts[full_key] = (reset_at, count + 1)
        self._sweep(now)
        return count + 1, reset_at - now

    def _sweep(self, now: float) -> None:
        if time.monotonic() - self._last_sweep < 30:
            return
        self._last_sweep = time.monotonic()
        for key in [k for k, (reset_at, _) in self._counts.items() if reset_at <= now]:
            self._counts.pop(key, None)

    async def reserve_slot(self, key: str, interval: float) -> float:
        now = time.time()
        start = max(now, self._next_free.get(key, 0.0))
        self._next_free[key] = start + interval
        return start - now

    async def reset(self) -> None:
        self._counts.clear()
        self._next_free.clear()


class RedisStorage:
    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis = Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

    async def hit(self, key: str, window: int) -> tuple[int, float]:
        now = time.time()
        bucket = math.floor(now / window)
        full_key = f"ugoki:rl:{key}:{window}:{bucket}"
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incr(full_key)
            pipe.expire(full_key, window + 1)
            count, _ = await pipe.execute()
        return int(count), (bucket + 1) * window - now

    # The next free moment of the stream, kept with Redis's own clock so that workers on different
    # machines agree; stored in microseconds, expiring once it lies in the past.
    _RESERVE = """
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
    local interval = tonumber(ARGV[1])
    local free = tonumber(redis.call('GET', KEYS[1]) or '0')
    local start = math.max(now, free)
    redis.call('SET', KEYS[1], tostring(start + interval), 'PX', math.ceil((start + interval - now) / 1000) + 1000)
    return start - now
    """

    async def reserve_slot(self, key: str, interval: float) -> float:
        wait = await self._redis.eval(self._RESERVE, 1, f"ugoki:rl:slot:{key}", str(int(interval * 1_000_000)))
        return int(wait) / 1_000_000

    async def reset(self) -> None:
        async for key in self._redis.scan_iter(match="ugoki:rl:*"):
            await self._redis.delete(key)

    async def close(self) -> None:
        await self._redis.aclose()


class RateLimiter:
    def __init__(self, storage: Storage, *, default: str, enabled: bool = True) -> None:
        self.storage = storage
        self.default = parse_limits(default)
        self.enabled = enabled
        self._route_limits: dict[int, tuple[Limit, ...]] = {}

    def limits_for(self, route: Any) -> tuple[Limit, ...]:
        cached = self._route_limits.get(id(route))
        if cached is not None:
            return cached
        extra = getattr(route, "openapi_extra", None) or {}
        spec = extra.get(OPENAPI_KEY, {}).get("limits") if isinstance(extra, dict) else None
        found = parse_limits(spec) if spec else self.default
        self._route_limits[id(route)] = found
        return found

    async def check(self, *, route: Any, method: str, subject: str) -> None:
        if not self.enabled or route is None:
            return
        route_key = f"{method}:{getattr(route, 'path_format', getattr(route, 'path', '?'))}"
        for limit in self.limits_for(route):
            try:
                count, reset_in = await self.storage.hit(f"{route_key}:{subject}", limit.seconds)
            except Exception:  # storage outage: fail open, loudly
                logger.warning("rate limit storage unavailable; request allowed")
                return
            if count > limit.amount:
                retry_after = max(1, math.ceil(reset_in))
                raise TooManyRequests(
                    f"Rate limit exceeded: {limit.amount} requests per {_human(limit.seconds)}",
                    headers={"Retry-After": str(retry_after)},
                    extra={"retry_after": retry_after},
                )


def _human(seconds: int) -> str:
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0:
            n = seconds // size
            return name if n == 1 else f"{n} {name}s"
    return f"{seconds} seconds"


def client_ip(request: Request, trusted_proxies: list[str]) -> str:
    peer = request.client.host if request.client else "unknown"
    if peer not in trusted_proxies:
        return peer
    # Walk the chain from the nearest hop; the first address we do not trust is the client.
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted_proxies:
            return hop
    return peer
