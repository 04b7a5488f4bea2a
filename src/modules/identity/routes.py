from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Body, Path, Response, status

from src.core.errors import NotFound, problem_schema
from src.core.rate_limit import limits
from src.core.routing import ModuleRouter
from src.dependencies import AdminIdentity, CurrentIdentity, UoWDep
from src.direct import direct

from .models import (
    AuthenticateRequest,
    AuthResult,
    Capability,
    CreatedPersonalToken,
    GrantCapabilityRequest,
    Identity,
    LogoutResult,
    PersonalToken,
    PersonalTokenCreate,
    RefreshRequest,
    RegisterRequest,
    UpgradeRequest,
)
from .personal_tokens import PersonalTokens
from .service import IdentityService

router = ModuleRouter(prefix="/identity", tags=["identity"])

_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {
    401: problem_schema(),
    409: problem_schema(),
    422: problem_schema(),
    429: problem_schema(),
}


@router.post(
    "/authenticate",
    response_model=AuthResult,
    summary="Sign in with a device id, email + password, or a Google/Apple ID token",
    description=(
        "`anonymous`: `token` is the app's device id (a new anonymous identity is created on first use; the "
        "device id of an account that was upgraded answers 409 `DEVICE_ACCOUNT_UPGRADED` with `sign_in_with`, "
        "the methods that account now uses, never a new empty account). "
        "`email`: `email` and `password` of a registered account. `google` / `apple`: `token` is the "
        "provider's ID token, verified against its published keys; the same provider account always "
        "signs in to the same identity."
    ),
    responses=_AUTH_ERRORS,
    openapi_extra=limits("AUTH"),
)
async def authenticate(uow: UoWDep, body: Annotated[AuthenticateRequest, Body()]) -> AuthResult:
    return await IdentityService(uow).authenticate(body)


@router.post(
    "/register",
    response_model=AuthResult,
    status_code=status.HTTP_201_CREATED,
    summary="Create an account with email and password",
    responses=_AUTH_ERRORS,
    openapi_extra=limits("AUTH"),
)
async def register(uow: UoWDep, body: RegisterRequest) -> AuthResult:
    return await IdentityService(uow).register(body.email, body.password)


@router.post(
    "/upgrade",
    response_model=AuthResult,
    summary="Secure an anonymous account with email or a Google/Apple account, keeping its data",
    description=(
        "Authenticated as the anonymous identity. The identity id stays the same; the device id stops "
        "being a way to sign in, and earlier sessions are ended (use the returned tokens)."
    ),
    responses=_AUTH_ERRORS,
    openapi_extra=limits("AUTH"),
)
async def upgrade(uow: UoWDep, me: CurrentIdentity, body: Annotated[UpgradeRequest, Body()]) -> AuthResult:
    return await IdentityService(uow).upgrade(me, body)


@router.post(
    "/refresh",
    response_model=AuthResult,
    summary="Exchange a refresh token for new tokens (the old refresh token dies)",
    description=(
        "Refresh tokens rotate: each can be used once. Presenting a used one again ends the whole "
        "session (every token issued from the same sign-in): 401 `REFRESH_TOKEN_REUSED`. Exception: "
        "within `REFRESH_REUSE_GRACE_SECONDS` (10 s by default) of its exchange, a used token is taken "
        "for the same client refreshing twice at once (a double tap, two app components refreshing "
        "together), not for theft: 401 `REFRESH_TOKEN_ALREADY_ROTATED` and nothing is revoked, so "
        "the tokens the other request received keep working."
    ),
    responses=_AUTH_ERRORS,
    openapi_extra=limits("AUTH"),
)
async def refresh(uow: UoWDep, body: RefreshRequest) -> AuthResult:
    return await IdentityService(uow).refresh(body.refresh_token)


@router.post("/logout", response_model=LogoutResult, summary="End this session (access and refresh tokens)")
async def logout(uow: UoWDep, me: CurrentIdentity) -> LogoutResult:
    await IdentityService(uow).logout(me)
    return LogoutResult()


@router.get("/me", response_model=Identity, summary="The signed-in identity")
@direct
async def me(uow: UoWDep, me: CurrentIdentity) -> Identity:
    return await IdentityService(uow).get_identity(me.identity_id)


@router.post(
    "/{identity_id}/capabilities",
    response_model=Capability,
    summary="Grant a capability (admin)",
    responses={403: problem_schema(), 404: problem_schema()},
)
async def grant_capability(
    uow: UoWDep, admin: AdminIdentity, identity_id: UUID, body: GrantCapabilityRequest
) -> Capability:
    return await IdentityService(uow).grant_capability(
        identity_id, body.capability, expires_at=body.expires_at, granted_by=admin.identity_id
    )


@router.delete(
    "/{identity_id}/capabilities/{capability}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke a capability (admin)",
    responses={403: problem_schema(), 404: problem_schema()},
)
async def revoke_capability(
    uow: UoWDep,
    _admin: AdminIdentity,
    identity_id: UUID,
    capability: Annotated[str, Path(max_length=100)],
) -> Response:
    if not await IdentityService(uow).revoke_capability(identity_id, capability):
        raise NotFound("That identity does not have this capability")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


_TOKEN_ERRORS: dict[int | str, dict[str, Any]] = {code: problem_schema() for code in (401, 403, 404, 409, 422)}


@router.post(
    "/tokens",
    response_model=CreatedPersonalToken,
    status_code=status.HTTP_201_CREATED,
    summary="Create a personal access token for your own integrations (shown once)",
    description=(
        "The token (`ugoki_pat_…`) is sent as `Authorization: Bearer <token>`. It works only on routes "
        "whose `x-token-scope` is one of its `scopes` (every other route answers 403 "
        "`TOKEN_SCOPE_MISSING`), until `expires_in_days` pass or it is revoked. Only a keyed hash is "
        "stored: the token is in this answer and nowhere else. Personal access tokens cannot create "
        "tokens, webhooks or feeds, nor reach account settings."
    ),
    responses=_TOKEN_ERRORS,
)
async def create_token(uow: UoWDep, me: CurrentIdentity, body: PersonalTokenCreate) -> CreatedPersonalToken:
    return await PersonalTokens(uow).create(me.identity_id, body)


@router.get(
    "/tokens",
    response_model=list[PersonalToken],
    summary="Your personal access tokens (without the tokens themselves)",
    responses=_TOKEN_ERRORS,
)
async def list_tokens(uow: UoWDep, me: CurrentIdentity) -> list[PersonalToken]:
    return await PersonalTokens(uow).list_tokens(me.identity_id)


@router.delete(
    "/tokens/{token_id}",
    response_model=PersonalToken,
    summary="Revoke a personal access token (it stops working at once)",
    responses=_TOKEN_ERRORS,
)
async def revoke_token(uow: UoWDep, me: CurrentIdentity, token_id: UUID) -> PersonalToken:
    return await PersonalTokens(uow).revoke(me.identity_id, token_id)
