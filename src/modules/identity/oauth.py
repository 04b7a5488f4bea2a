"""Google and Apple ID-token verification against the provider's published keys (JWKS).

A token is accepted only when its RS256 signature verifies with a key of the provider's JWKS and
its issuer, audience (one of our configured client ids) and expiry are right. Keys are cached
for `jwks_cache_seconds`; an unknown key id triggers one refetch (at most once a minute), so key
rotation at the provider is picked up without letting forged `kid`s hammer it.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import jwt

from .errors import InvalidToken, ProviderNotConfigured, ProviderUnavailable

CLOCK_SKEW_SECONDS = 60
REFETCH_INTERVAL_SECONDS = 60.0


@dataclass
class JwksCache:
    url: str
    ttl_seconds: float
    _keys: dict[str, Any] = field(default_factory=dict)
    _fetched_at: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def key_for(self, kid: str, http: httpx.AsyncClient) -> Any:
        now = time.monotonic()
        fresh = self._keys and now - self._fetched_at < self.ttl_seconds
        if fresh and kid in self._keys:
            return self._keys[kid]
        if fresh and now - self._fetched_at < REFETCH_INTERVAL_SECONDS:
            raise InvalidToken("ID token signed with an unknown key")
        async with self._lock:
            # Another request may have refetched while this one waited for the lock.
            since = time.monotonic() - self._fetched_at
            stale = not self._keys or since >= self.ttl_seconds
            if stale or (kid not in self._keys and since >= REFETCH_INTERVAL_SECONDS):
                await self._fetch(http)
        if kid not in self._keys:
            raise InvalidToken("ID token signed with an unknown key")
        return self._keys[kid]

    async def _fetch(self, http: httpx.AsyncClient) -> None:
        try:
            response = await http.get(self.url)
            response.raise_for_status()
            document = response.json()
            keys: dict[str, Any] = {}
            for entry in document.get("keys", []):
                if entry.get("kty") != "RSA" or "kid" not in entry:
                    continue
                keys[str(entry["kid"])] = jwt.PyJWK(entry, algorithm="RS256").key
        except (httpx.HTTPError, ValueError, jwt.PyJWTError, AttributeError) as exc:
            raise ProviderUnavailable("The sign-in provider could not be reached; try again shortly") from exc
        self._keys = keys
        self._fetched_at = time.monotonic()


@dataclass(frozen=True)
class VerifiedIdToken:
    subject: str
    email: str | None
    email_verified: bool


class IdTokenVerifier:
    def __init__(
        self, *, provider: str, jwks_url: str, client_ids: list[str], issuers: list[str], cache_seconds: float
    ) -> None:
        self.provider = provider
        self.client_ids = client_ids
        self.issuers = issuers
        self.jwks = JwksCache(jwks_url, cache_seconds)

    async def verify(self, token: str, *, http: httpx.AsyncClient | None, now: datetime) -> VerifiedIdToken:
        if not self.client_ids or http is None:
            raise ProviderNotConfigured(f"Sign-in with {self.provider} is not configured on this server")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"Invalid {self.provider} ID token") from exc
        if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
            raise InvalidToken(f"Invalid {self.provider} ID token")
        key = await self.jwks.key_for(header["kid"], http)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=["RS256"],
                audience=self.client_ids,
                issuer=self.issuers,
                options={"verify_exp": False, "verify_iat": False, "require": ["iss", "aud", "sub", "exp"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(f"Invalid {self.provider} ID token") from exc
        try:
            expires = float(claims["exp"])
        except (TypeError, ValueError) as exc:
            raise InvalidToken(f"Invalid {self.provider} ID token") from exc
        if expires + CLOCK_SKEW_SECONDS <= now.timestamp():
            raise InvalidToken(f"The {self.provider} ID token has expired")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise InvalidToken(f"Invalid {self.provider} ID token")
        email = claims.get("email") if isinstance(claims.get("email"), str) else None
        verified = claims.get("email_verified") in (True, "true")
        return VerifiedIdToken(subject=subject, email=email, email_verified=verified)
