from __future__ import annotations

from uuid import UUID

from src.core.gdpr import PersonalData
from src.core.modules import ModuleManifest
from src.core.security import Principal
from src.core.settings import Settings
from src.core.uow import UnitOfWork

from .models import AuthProvider, Identity
from .oauth import IdTokenVerifier
from .personal_tokens import PersonalTokens
from .routes import router
from .service import IdentityService


def id_token_verifiers(settings: Settings) -> dict[str, IdTokenVerifier]:
    """The Google and Apple ID token verifiers (each caches its provider's keys), built once per app."""
    return {
        AuthProvider.GOOGLE: IdTokenVerifier(
            provider="Google",
            jwks_url=settings.google_jwks_url,
            client_ids=settings.google_client_ids,
            issuers=settings.google_issuers,
            cache_seconds=settings.jwks_cache_seconds,
        ),
        AuthProvider.APPLE: IdTokenVerifier(
            provider="Apple",
            jwks_url=settings.apple_jwks_url,
            client_ids=settings.apple_client_ids,
            issuers=settings.apple_issuers,
            cache_seconds=settings.jwks_cache_seconds,
        ),
    }


async def resolve_principal(uow: UnitOfWork, *, session_id: UUID, identity_id: UUID) -> Principal | None:
    """The request dependencies' sign-in check (wired into `Resources` by the app shell)."""
    return await IdentityService(uow).resolve_principal(session_id=session_id, identity_id=identity_id)


class PersonalTokenPort:
    """Personal access tokens for the request dependencies (wired into `Resources` by the app shell)."""

    async def resolve(self, uow: UnitOfWork, token: str) -> tuple[Principal, bool] | None:
        return await PersonalTokens(uow).resolve(token)

    async def record_use(self, uow: UnitOfWork, principal: Principal) -> None:
        await PersonalTokens(uow).record_use(principal)


personal_tokens = PersonalTokenPort()


async def ensure_admin(uow: UnitOfWork, email: str, password: str | None) -> tuple[Identity, bool]:
    """Operations (scripts/create_admin.py): grant `admin` to the email account, creating it
    (password needed) when missing. Returns the identity and whether it was created. Raises
    ValueError on a missing or weak password."""
    return await IdentityService(uow).ensure_admin(email, password)


async def _export(uow: UnitOfWork, identity_id: UUID) -> dict[str, object]:
    exported = await IdentityService(uow).export(identity_id)
    if exported:
        exported["personal_access_tokens"] = await PersonalTokens(uow).export(identity_id)
    return exported


async def _erase(uow: UnitOfWork, identity_id: UUID) -> int:
    return await IdentityService(uow).erase(identity_id)


MANIFEST = ModuleManifest(
    name="identity",
    router=router,
    personal_data=PersonalData(
        module="identity",
        tables=(
            "identities",
            "identity_credentials",
            "capabilities",
            "auth_sessions",
            "refresh_tokens",
            "personal_access_tokens",  # erased with the identity (foreign-key cascade)
        ),
        export=_export,
        erase=_erase,
        anonymize=None,  # anonymising an account ends it: the identity is erased
        order=1000,  # last: everything else points at it
    ),
)
