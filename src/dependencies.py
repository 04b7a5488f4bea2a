"""FastAPI dependencies shared by every module: the unit of work, the verified caller, the
rate limit.

`UoWDep` opens one session per request and commits it when the handler returns (before the
response is sent), rolls it back when the handler raises. `CurrentIdentity` verifies the bearer
token and that its session is live and its identity exists; `AdminIdentity` also requires the
`admin` capability.

Personal access tokens (`ugoki_pat_…`, issued for a person's own integrations) are accepted only on
routes that declare a scope the token holds (`src/core/scopes.py`): `refuse_unscoped_tokens` runs
for every route of the app and refuses them where no scope is declared, `CurrentIdentity` checks
the token's scopes against the route's.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import State

from src.core.errors import AppError, Forbidden, Unauthorized
from src.core.lean import DRIVER_READS
from src.core.rate_limit import client_ip, keyed_by_ip
from src.core.scopes import TokenScopeMissing, is_personal_token, required_scope
from src.core.security import AccessClaims, Principal, TokenError
from src.core.uow import UnitOfWork

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

bearer_scheme = HTTPBearer(auto_error=False, description="Access token from /identity/authenticate")


async def unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    """One session per request: commit if the handler returned, roll back if it raised."""
    async with unit_of_work_in(request.app.state, write=request.method not in SAFE_METHODS) as uow:
        yield uow


async def writing_unit_of_work(request: Request) -> AsyncIterator[UnitOfWork]:
    """For the few GET endpoints that also write (audit events of health-data reads, a stored
    daily score): takes the write lock up front on SQLite, like every write request."""
    async with unit_of_work_in(request.app.state, write=True) as uow:
        yield uow


@asynccontextmanager
async def unit_of_work_in(state: State, *, write: bool, driver_reads: bool = False) -> AsyncIterator[UnitOfWork]:
    """The unit of work of one request of the app whose `state` is given (see `unit_of_work`);
    `driver_reads` (read-only) runs its hot reads on a driver connection (`DriverReads`)."""
    sessions = state.sessions
    session = sessions.writer() if write else sessions.reader()
    reads = None if write or not driver_reads else sessions.driver_reads()
    if reads is not None:
        session.info[DRIVER_READS] = reads
    uow = UnitOfWork(session=session, resources=state.resources)
    try:
        yield uow
    except AppError as exc:
        if exc.commit_transaction:
            await session.commit()
            if uow.enqueued and state.resources.outbox is not None:
                state.resources.outbox.notify()
        else:
            await session.rollback()
        raise
    except BaseException:
        await session.rollback()
        raise
    else:
        await session.commit()
        if uow.enqueued and state.resources.outbox is not None:
            state.resources.outbox.notify()
    finally:
        await session.close()
        if reads is not None:
            await reads.release()


UoWDep = Annotated[UnitOfWork, Depends(unit_of_work, scope="function")]
WritingUoWDep = Annotated[UnitOfWork, Depends(writing_unit_of_work, scope="function")]


def _bearer_token(request: Request) -> str | None:
    return bearer_token(request.headers.get("authorization"))


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header value (None for any other)."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def verified_claims(request: Request) -> AccessClaims | None:
    """Signature- and expiry-checked claims of the request's bearer token, decoded once per request."""
    state = request.state
    if hasattr(state, "access_claims"):
        return state.access_claims  # type: ignore[no-any-return]
    token = _bearer_token(request)
    claims: AccessClaims | None = None
    error: str | None = None
    if token is not None:
        try:
            resources = request.app.state.resources
            claims = resources.tokens.decode_access(token, now=resources.clock.now())
        except TokenError as exc:
            error = exc.reason
    state.access_claims = claims
    state.access_error = error
    return claims


async def enforce_rate_limit(request: Request) -> None:
    limiter = request.app.state.rate_limiter
    request.state.rate_limit_checked = True
    if not limiter.enabled:
        return
    route = request.scope.get("route")
    claims = None if keyed_by_ip(route) else verified_claims(request)
    token = None if keyed_by_ip(route) else _bearer_token(request)
    if claims is not None:
        subject = f"user:{claims.identity_id}"
    elif is_personal_token(token):
        subject = "token:" + hashlib.sha256(str(token).encode()).hexdigest()[:32]
    else:
        subject = f"ip:{client_ip(request, request.app.state.resources.settings.trusted_proxies)}"
    await limiter.check(route=route, method=request.method, subject=subject)


async def enforce_rate_limit_once(request: Request) -> None:
    """The rate limit for a request refused before its dependencies ran (a body that is not JSON):
    such requests count too, so they cannot be sent without limit."""
    if request.scope.get("route") is not None and not getattr(request.state, "rate_limit_checked", False):
        await enforce_rate_limit(request)


async def check_personal_token(request: Request) -> None:
    """Personal access tokens, default deny: a route that declares no token scope refuses them
    (403), whatever else it accepts, and a route that declares one needs a live token holding
    it. Runs for every route of the app, before the route's own unit of work begins: the token
    is read (and its use journalled, at most hourly) in sessions of its own."""
    token = _bearer_token(request)
    if token is None or not is_personal_token(token):
        return
    needed = required_scope(request.scope.get("route"))
    if needed is None:
        raise TokenScopeMissing("Personal access tokens cannot be used on this route")
    resources = request.app.state.resources
    tokens = resources.personal_tokens
    if tokens is None:
        raise Unauthorized("Personal access tokens are not accepted")
    sessions = request.app.state.sessions
    async with sessions.reader() as session:
        resolved = await tokens.resolve(UnitOfWork(session=session, resources=resources), token)
    if resolved is None:
        raise Unauthorized("Invalid, expired or revoked personal access token")
    principal, record_use = resolved
    if principal.scopes is None or needed not in principal.scopes:
        raise TokenScopeMissing(f"This personal access token lacks the scope {needed}")
    if record_use:
        async with sessions.writer() as session:
            await tokens.record_use(UnitOfWork(session=session, resources=resources), principal)
            await session.commit()
    request.state.personal_principal = principal


def _personal_principal(request: Request) -> Principal:
    principal: Principal | None = getattr(request.state, "personal_principal", None)
    if principal is None:  # pragma: no cover - check_personal_token runs first on every route
        raise TokenScopeMissing("Personal access tokens cannot be used on this route")
    return principal


async def _resolve(uow: UnitOfWork, claims: AccessClaims) -> Principal | None:
    resolve = uow.resources.resolve_principal
    if resolve is None:  # an app without the identity module signs nobody in
        return None
    return await resolve(uow, session_id=claims.session_id, identity_id=claims.identity_id)


async def current_principal(
    request: Request,
    uow: UoWDep,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
) -> Principal:
    token = _bearer_token(request)
    if token is not None and is_personal_token(token):
        personal = _personal_principal(request)
        request.state.identity_id = personal.identity_id
        return personal
    claims = verified_claims(request)
    if claims is None:
        raise Unauthorized(getattr(request.state, "access_error", None) or "Not authenticated")
    principal = await principal_of(uow, claims)
    request.state.identity_id = principal.identity_id
    return principal


async def principal_of(uow: UnitOfWork, claims: AccessClaims) -> Principal:
    """Who is behind verified access-token claims: from the principal cache, else looked up (and
    cached); `Unauthorized` once the session has ended."""
    cache = uow.resources.principals
    principal = cache.get(claims.session_id)
    if principal is None or principal.identity_id != claims.identity_id:
        # Not cached if a revocation of this session lands while it is being read.
        looked_up_at = cache.stamp()
        principal = await _resolve(uow, claims)
        if principal is None:
            raise Unauthorized("Session has ended - please sign in again")
        cache.put(principal, looked_up_at=looked_up_at)
    return principal


CurrentIdentity = Annotated[Principal, Depends(current_principal)]


async def optional_principal(request: Request, uow: UnitOfWork) -> Principal | None:
    """The caller when a valid token is presented, else None (for endpoints open to everyone)."""
    token = _bearer_token(request)
    if token is not None and is_personal_token(token):
        return _personal_principal(request)
    claims = verified_claims(request)
    if claims is None:
        return None
    principal = uow.resources.principals.get(claims.session_id)
    if principal is None or principal.identity_id != claims.identity_id:
        principal = await _resolve(uow, claims)
    return principal


async def admin_principal(principal: CurrentIdentity) -> Principal:
    if not principal.has("admin"):
        raise Forbidden("This action needs the admin capability")
    return principal


AdminIdentity = Annotated[Principal, Depends(admin_principal)]
