"""Access-token codec and the per-process cache of verified sessions.

Access tokens are short-lived HS256 JWTs carrying the identity (`sub`) and the sign-in session
(`sid`, the refresh-token family). Every authenticated request checks, besides the signature and
expiry, that the session is still live and the identity still exists. That check is a primary-key
lookup, cached in process for `auth_cache_seconds` (5 s by default): the worker that revokes a
session or erases an identity drops its cache entries at once and again when that transaction
commits, and refuses to cache what a lookup read before then; the other workers notice within the
TTL (an accepted trade-off).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import jwt
from sqlalchemy import event

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

ISSUER = "ugoki"
ACCESS = "access"


class TokenError(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class AccessClaims:
    identity_id: uuid.UUID
    session_id: uuid.UUID
    token_id: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Principal:
    """The verified caller of a request."""

    identity_id: uuid.UUID
    session_id: uuid.UUID
    identity_type: str
    capabilities: frozenset[str]
    # Set when the caller presented a personal access token: the token's scopes (its id is
    # `session_id`). None for a signed-in session, which may call every route it is allowed to.
    scopes: frozenset[str] | None = None

    def has(self, capability: str) -> bool:
        # A personal access token never carries capabilities (admin included).
        return self.scopes is None and capability in self.capabilities

    @property
    def via_personal_token(self) -> bool:
        return self.scopes is not None


class TokenCodec:
    # A client presents the same access token for many requests: its verified claims are kept
    # (bounded), so the signature is checked once per token and process; expiry is checked on
    # every request.
    CACHE_SIZE = 50_000

    def __init__(self, secret: str, *, access_minutes: int) -> None:
        self._secret = secret
        self.access_ttl = timedelta(minutes=access_minutes)
        self._verified: dict[str, AccessClaims] = {}

    def issue_access(self, identity_id: uuid.UUID, session_id: uuid.UUID, *, now: datetime) -> tuple[str, datetime]:
        expires_at = now + self.access_ttl
        claims = {
            "iss": ISSUER,
            "sub": str(identity_id),
            "sid": str(session_id),
            "jti": uuid.uuid4().hex,
            "type": ACCESS,
            "iat": int(now.timestamp()),
            "exp": int(expires_at.timestamp()),
        }
        return jwt.encode(claims, self._secret, algorithm="HS256"), expires_at.replace(microsecond=0)

    def decode_access(self, token: str, *, now: datetime) -> AccessClaims:
        """Verify signature, issuer, type and expiry (against our clock, not the system's)."""
        cached = self._verified.get(token)
        if cached is not None:
            if cached.expires_at <= now:
                raise TokenError("Token has expired")
            return cached
        claims = self._decode(token, now=now)
        if len(self._verified) >= self.CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = claims
        return claims

    def _decode(self, token: str, *, now: datetime) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                issuer=ISSUER,
                options={"verify_exp": False, "verify_iat": False, "require": ["sub", "sid", "exp", "type"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenError("Invalid access token") from exc
        if claims.get("type") != ACCESS:
            raise TokenError("Invalid token type - expected access token")
        try:
            identity_id = uuid.UUID(str(claims["sub"]))
            session_id = uuid.UUID(str(claims["sid"]))
            expires_at = datetime.fromtimestamp(int(claims["exp"]), now.tzinfo)
            issued_at = datetime.fromtimestamp(int(claims.get("iat", 0)), now.tzinfo)
        except (ValueError, TypeError, OverflowError) as exc:
            raise TokenError("Invalid access token") from exc
        if expires_at <= now:
            raise TokenError("Token has expired")
        return AccessClaims(identity_id, session_id, str(claims.get("jti", "")), issued_at, expires_at)


class PrincipalCache:
    """sid → Principal, for a few seconds. Never holds a negative answer.

    Forgetting a session (logout, reuse detection) or an identity (erasure, capability change)
    happens while its transaction is still open: until it commits, a concurrent request still reads
    the session as live. So `forget` drops the entries at once *and* when that transaction commits,
    and `put` refuses a principal whose lookup started before the latest drop that concerns it.
    """

    # Drops are remembered this long; a lookup older than that is not cached at all.
    DROP_MEMORY_SECONDS = 60.0

    def __init__(self, ttl_seconds: float, max_entries: int = 100_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: dict[uuid.UUID, tuple[float, Principal]] = {}
        self._dropped_sessions: dict[uuid.UUID, float] = {}
        self._dropped_identities: dict[uuid.UUID, float] = {}
        self._forgotten_at = float("-inf")

    @staticmethod
    def stamp() -> float:
        """Take before looking a principal up; pass to `put` as `looked_up_at`."""
        return time.monotonic()

    def get(self, session_id: uuid.UUID) -> Principal | None:
        if self.ttl <= 0:
            return None
        entry = self._entries.get(session_id)
        if entry is None:
            return None
        if entry[0] < time.monotonic():
            self._entries.pop(session_id, None)
            return None
        return entry[1]

    def put(self, principal: Principal, *, looked_up_at: float | None = None) -> None:
        if self.ttl <= 0:
            return
        if looked_up_at is not None and self._dropped_since(principal, looked_up_at):
            return  # read before a revocation that may not have been visible yet
        if len(self._entries) >= self.max_entries:
            self._evict_expired()
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
        self._entries[principal.session_id] = (time.monotonic() + self.ttl, principal)

    def forget(
        self,
        db: AsyncSession,
        *,
        session_id: uuid.UUID | None = None,
        identity_id: uuid.UUID | None = None,
    ) -> None:
        """Drop a session's (or every session of an identity's) entries now and again right after
        `db` commits the change that ended them."""

        def drop(*_: object) -> None:
            if session_id is not None:
                self.drop_session(session_id)
            if identity_id is not None:
                self.drop_identity(identity_id)

        drop()
        event.listen(db.sync_session, "after_commit", drop, once=True)

    def drop_session(self, session_id: uuid.UUID) -> None:
        self._remember(self._dropped_sessions, session_id)
        self._entries.pop(session_id, None)

    def drop_identity(self, identity_id: uuid.UUID) -> None:
        self._remember(self._dropped_identities, identity_id)
        for sid in [sid for sid, (_, p) in self._entries.items() if p.identity_id == identity_id]:
            self._entries.pop(sid, None)

    def clear(self) -> None:
        self._entries.clear()

    def _dropped_since(self, principal: Principal, looked_up_at: float) -> bool:
        if looked_up_at <= self._forgotten_at or time.monotonic() - looked_up_at > self.DROP_MEMORY_SECONDS:
            return True  # older than what is remembered: cannot tell, do not cache
        for dropped_at in (
            self._dropped_sessions.get(principal.session_id),
            self._dropped_identities.get(principal.identity_id),
        ):
            if dropped_at is not None and dropped_at >= looked_up_at:
                return True
        return False

    def _remember(self, drops: dict[uuid.UUID, float], key: uuid.UUID) -> None:
        now = time.monotonic()
        horizon = now - self.DROP_MEMORY_SECONDS
        while drops:  # ordered by time (re-inserted below), so the stale ones come first
            oldest = next(iter(drops))
            if drops[oldest] >= horizon:
                break
            del drops[oldest]
        if len(drops) >= self.max_entries:
            # Too many to remember: forget them, and cache no lookup that started before now.
            drops.clear()
            self._forgotten_at = now
        drops.pop(key, None)
        drops[key] = now

    def _evict_expired(self) -> None:
        now = time.monotonic()
        for sid in [sid for sid, (exp, _) in self._entries.items() if exp < now]:
            self._entries.pop(sid, None)
