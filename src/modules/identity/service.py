from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, delete, literal, or_, select, union_all, update

from src.core.contracts import SignedOut
from src.core.errors import UnprocessableEntity
from src.core.lean import HotQuery
from src.core.persistence import rowcount, try_insert
from src.core.ports import IdTokenVerifying
from src.core.security import Principal
from src.core.uow import UnitOfWork
from src.modules.event_journal import EventSource, EventType, event_journal

from .errors import (
    AlreadyUpgraded,
    CredentialInUse,
    DeviceAccountUpgraded,
    EmailAlreadyRegistered,
    IdentityNotFound,
    InvalidCredentials,
    InvalidRefreshToken,
    RefreshTokenAlreadyRotated,
    RefreshTokenReused,
    WeakPassword,
)
from .interface import IdentityInterface
from .models import (
    ADMIN,
    PASSWORD_MIN,
    AnonymousAuth,
    AppleAuth,
    AuthProvider,
    AuthResult,
    Capability,
    EmailAuth,
    GoogleAuth,
    Identity,
    IdentityType,
)
from .orm import AuthSessionRow, CapabilityRow, CredentialRow, IdentityRow, RefreshTokenRow
from .passwords import hash_password, needs_rehash, verify_password

# The provider of a device id whose account was upgraded: no longer a way in (see `upgrade`).
RETIRED_DEVICE = "anonymous_retired"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def _identity_with_attached() -> Any:
    attached = union_all(
        select(
            CapabilityRow.identity_id.label("owner"),
            literal("capability").label("kind"),
            CapabilityRow.capability.label("value"),
        ).where(
            CapabilityRow.identity_id == bindparam("identity_id"),
            or_(CapabilityRow.expires_at.is_(None), CapabilityRow.expires_at > bindparam("now")),
        ),
        select(CredentialRow.identity_id, literal("provider"), CredentialRow.provider).where(
            CredentialRow.identity_id == bindparam("identity_id"), CredentialRow.provider != RETIRED_DEVICE
        ),
    ).subquery()
    return (
        select(
            IdentityRow.identity_type,
            IdentityRow.created_at,
            IdentityRow.last_active_at,
            attached.c.kind,
            attached.c.value,
        )
        .outerjoin(attached, attached.c.owner == IdentityRow.id)
        .where(IdentityRow.id == bindparam("identity_id"))
    )


# Read on every `GET /identity/me` and on every sign-in check the principal cache misses.
_IDENTITY_WITH_ATTACHED = HotQuery(_identity_with_attached)
_LIVE_SESSION = HotQuery(
    lambda: (
        select(IdentityRow.identity_type, CapabilityRow.capability)
        .select_from(AuthSessionRow)
        .join(IdentityRow, IdentityRow.id == AuthSessionRow.identity_id)
        .outerjoin(
            CapabilityRow,
            and_(
                CapabilityRow.identity_id == IdentityRow.id,
                or_(CapabilityRow.expires_at.is_(None), CapabilityRow.expires_at > bindparam("now")),
            ),
        )
        .where(
            AuthSessionRow.id == bindparam("session_id"),
            AuthSessionRow.identity_id == bindparam("identity_id"),
            AuthSessionRow.revoked_at.is_(None),
            AuthSessionRow.expires_at > bindparam("now"),
        )
    )
)


class IdentityService(IdentityInterface):
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self._hash_key = uow.settings.identifier_hash_key.get_secret_value().encode()

    # Hashing ------------------------------------------------------------------------------

    def _subject_hash(self, provider: AuthProvider, subject: str) -> str:
        return hmac.new(self._hash_key, f"{provider}:{subject}".encode(), hashlib.sha256).hexdigest()

    def _refresh_hash(self, token: str) -> str:
        return hmac.new(self._hash_key, f"refresh:{token}".encode(), hashlib.sha256).hexdigest()

    # Sign-in flows ------------------------------------------------------------------------

    async def authenticate(self, request: AnonymousAuth | GoogleAuth | AppleAuth | EmailAuth) -> AuthResult:
        if isinstance(request, EmailAuth):
            return await self._login_email(request.email, request.password)
        provider, subject = await self._external_subject(request)
        credential = await self._find_credential(provider, subject)
        if credential is None and provider == AuthProvider.ANONYMOUS:
            await self._refuse_upgraded_device(subject)
        if credential is None:
            identity_type = IdentityType.ANONYMOUS if provider == AuthProvider.ANONYMOUS else IdentityType.AUTHENTICATED
            credential = await self._create_identity_with(provider, subject, identity_type)
        return await self._sign_in(credential.identity_id, provider, credential)

    async def register(self, email: str, password: str) -> AuthResult:
        subject = normalise_email(email)
        password_hash = await hash_password(password)
        if await self._find_credential(AuthProvider.EMAIL, subject) is not None:
            raise EmailAlreadyRegistered("An account with this email already exists")
        credential = await self._create_identity_with(
            AuthProvider.EMAIL, subject, IdentityType.AUTHENTICATED, password_hash=password_hash, must_be_new=True
        )
        return await self._sign_in(credential.identity_id, AuthProvider.EMAIL, credential)

    async def upgrade(self, principal: Principal, request: GoogleAuth | AppleAuth | EmailAuth) -> AuthResult:
        identity = await self.session.get(IdentityRow, principal.identity_id, with_for_update=True)
        if identity is None:
            raise IdentityNotFound("Identity not found")
        if identity.identity_type != IdentityType.ANONYMOUS:
            raise AlreadyUpgraded("This account is already signed in with an email or provider account")
        password_hash: str | None = None
        if isinstance(request, EmailAuth):
            provider, subject = AuthProvider.EMAIL, normalise_email(request.email)
            if len(request.password) < PASSWORD_MIN:
                raise WeakPassword(f"password must be at least {PASSWORD_MIN} characters")
            password_hash = await hash_password(request.password)
        else:
            provider, subject = await self._external_subject(request)
        now = self.uow.now()
        credential = CredentialRow(
            id=uuid.uuid4(),
            identity_id=identity.id,
            provider=str(provider),
            subject_hash=self._subject_hash(provider, subject),
            password_hash=password_hash,
            created_at=now,
            last_used_at=now,
        )
        if not await try_insert(self.session, credential):
            raise CredentialInUse("That sign-in is already linked to another account")
        # The device id stops being a way in: from now on the account needs the new credential.
        # It is kept as a retired credential so that signing in with it answers 409 (sign in with
        # the new method) instead of quietly opening a new empty account.
        await self.session.execute(
            update(CredentialRow)
            .where(CredentialRow.identity_id == identity.id, CredentialRow.provider == str(AuthProvider.ANONYMOUS))
            .values(provider=RETIRED_DEVICE)
        )
        identity.identity_type = str(IdentityType.AUTHENTICATED)
        identity.updated_at = now
        await self._revoke_sessions(identity.id, reason="account_upgraded")
        await event_journal(self.uow).record(
            identity.id, EventType.ACCOUNT_UPGRADED, source=EventSource.SYSTEM, metadata={"provider": str(provider)}
        )
        return await self._sign_in(identity.id, provider, credential, record_login=False)

    async def refresh(self, refresh_token: str) -> AuthResult:
        now = self.uow.now()
        token_hash = self._refresh_hash(refresh_token)
        row = (
            await self.session.execute(
                select(RefreshTokenRow, AuthSessionRow)
                .join(AuthSessionRow, AuthSessionRow.id == RefreshTokenRow.session_id)
                .where(RefreshTokenRow.token_hash == token_hash)
                .with_for_update()
            )
        ).first()
        if row is None:
            raise InvalidRefreshToken("Invalid refresh token")
        token, auth_session = row
        if auth_session.revoked_at is not None:
            raise InvalidRefreshToken("Refresh token is no longer valid - please sign in again")
        if token.used_at is not None:
            await self._used_again(auth_session, used_at=token.used_at, now=now)
        if token.expires_at <= now or auth_session.expires_at <= now:
            raise InvalidRefreshToken("Refresh token has expired - please sign in again")
        claimed = await self.session.execute(
            update(RefreshTokenRow)
            .where(RefreshTokenRow.id == token.id, RefreshTokenRow.used_at.is_(None))
            .values(used_at=now)
        )
        if rowcount(claimed) != 1:
            # Exchanged by a concurrent request between our read and our claim: that is a race.
            await self._used_again(auth_session, used_at=now, now=now)
        identity = await self.session.get(IdentityRow, auth_session.identity_id)
        if identity is None:
            raise InvalidRefreshToken("Refresh token is no longer valid - please sign in again")
        identity.last_active_at = now
        return await self._issue(identity, auth_session, now)

    async def _used_again(self, auth_session: AuthSessionRow, *, used_at: datetime, now: datetime) -> None:
        """A refresh token that was already exchanged. Moments after the exchange it is the same
        client refreshing twice at once (two taps, two app components): the other request holds
        the new tokens, so nothing is revoked. Later it is a copy of the token (theft): the whole
        session ends, the thief's tokens and the owner's alike."""
        grace = timedelta(seconds=self.uow.settings.refresh_reuse_grace_seconds)
        if now < used_at + grace:
            raise RefreshTokenAlreadyRotated(
                "This refresh token was just exchanged by another request; use the tokens that request "
                "received (or sign in again)"
            )
        await self._reuse_detected(auth_session)

    async def _reuse_detected(self, auth_session: AuthSessionRow) -> None:
        await self._revoke_session(auth_session.id, reason="refresh_token_reuse")
        await event_journal(self.uow).record(
            auth_session.identity_id,
            EventType.SESSION_REVOKED,
            source=EventSource.SYSTEM,
            metadata={"reason": "refresh_token_reuse"},
        )
        raise RefreshTokenReused(
            "This refresh token was already used; the session has been ended for safety - please sign in again"
        )

    async def logout(self, principal: Principal) -> None:
        await self._revoke_session(principal.session_id, reason="logout")
        identity = await self.session.get(IdentityRow, principal.identity_id)
        if identity is not None:
            identity.last_active_at = self.uow.now()
        await event_journal(self.uow).record(principal.identity_id, EventType.LOGOUT, source=EventSource.API)
        await self.uow.publish(
            SignedOut(identity_id=principal.identity_id, occurred_at=self.uow.now(), session_id=principal.session_id)
        )

    # Reading ------------------------------------------------------------------------------

    async def owns_email(self, identity_id: uuid.UUID, email: str) -> bool:
        credential = await self._find_credential(AuthProvider.EMAIL, normalise_email(email))
        return credential is not None and credential.identity_id == identity_id

    async def session_started_at(self, session_id: uuid.UUID) -> datetime | None:
        row = await self.session.get(AuthSessionRow, session_id)
        return None if row is None else row.created_at

    async def get_identity(self, identity_id: uuid.UUID) -> Identity:
        identity = await self.find_identity(identity_id)
        if identity is None:
            raise IdentityNotFound("Identity not found")
        return identity

    async def find_identity(self, identity_id: uuid.UUID) -> Identity | None:
        """The identity with its live capabilities and sign-in providers, in one statement."""
        rows = await _IDENTITY_WITH_ATTACHED.all(self.session, identity_id=identity_id, now=self.uow.now())
        if not rows:
            return None
        first = rows[0]
        return Identity(
            id=identity_id,
            type=IdentityType(first.identity_type),
            capabilities=sorted({r.value for r in rows if r.kind == "capability"}),
            providers=sorted({AuthProvider(r.value) for r in rows if r.kind == "provider"}),
            created_at=first.created_at,
            last_active_at=first.last_active_at,
        )

    async def resolve_principal(self, *, session_id: uuid.UUID, identity_id: uuid.UUID) -> Principal | None:
        rows = await _LIVE_SESSION.all(self.session, session_id=session_id, identity_id=identity_id, now=self.uow.now())
        if not rows:
            return None
        return Principal(
            identity_id=identity_id,
            session_id=session_id,
            identity_type=rows[0][0],
            capabilities=frozenset(cap for _, cap in rows if cap),
        )

    # Capabilities -------------------------------------------------------------------------

    async def grant_capability(
        self,
        identity_id: uuid.UUID,
        capability: str,
        *,
        expires_at: datetime | None = None,
        granted_by: uuid.UUID | None = None,
    ) -> Capability:
        if await self.session.get(IdentityRow, identity_id) is None:
            raise IdentityNotFound("Identity not found")
        now = self.uow.now()
        if expires_at is not None and expires_at <= now:
            raise UnprocessableEntity("expires_at must be in the future")
        existing = (
            await self.session.execute(
                select(CapabilityRow).where(
                    CapabilityRow.identity_id == identity_id, CapabilityRow.capability == capability
                )
            )
        ).scalar_one_or_none()
        if existing is None:
            existing = CapabilityRow(
                id=uuid.uuid4(),
                identity_id=identity_id,
                capability=capability,
                expires_at=expires_at,
                granted_at=now,
                granted_by=granted_by,
            )
            if not await try_insert(self.session, existing):
                return await self.grant_capability(
                    identity_id, capability, expires_at=expires_at, granted_by=granted_by
                )
        else:
            existing.expires_at = expires_at
            existing.granted_at = now
            existing.granted_by = granted_by
        self._forget_principals(identity_id=identity_id)
        return Capability(capability=capability, expires_at=expires_at, granted_at=now)

    async def revoke_capability(self, identity_id: uuid.UUID, capability: str) -> bool:
        result = await self.session.execute(
            delete(CapabilityRow).where(
                CapabilityRow.identity_id == identity_id, CapabilityRow.capability == capability
            )
        )
        self._forget_principals(identity_id=identity_id)
        return bool(rowcount(result))

    async def has_capability(self, identity_id: uuid.UUID, capability: str) -> bool:
        now = self.uow.now()
        found = await self.session.execute(
            select(CapabilityRow.id).where(
                CapabilityRow.identity_id == identity_id,
                CapabilityRow.capability == capability,
                or_(CapabilityRow.expires_at.is_(None), CapabilityRow.expires_at > now),
            )
        )
        return found.first() is not None

    async def ensure_admin(self, email: str, password: str | None) -> tuple[Identity, bool]:
        """For the CLI: make the email account an admin, creating it if needed (then a password is
        required). Returns the identity and whether it was created."""
        subject = normalise_email(email)
        credential = await self._find_credential(AuthProvider.EMAIL, subject)
        created = False
        if credential is None:
            if not password or len(password) < PASSWORD_MIN:
                raise ValueError("a password of at least 8 characters is needed to create the admin account")
            credential = await self._create_identity_with(
                AuthProvider.EMAIL,
                subject,
                IdentityType.AUTHENTICATED,
                password_hash=await hash_password(password),
                must_be_new=True,
            )
            created = True
        await self.grant_capability(credential.identity_id, ADMIN)
        return await self.get_identity(credential.identity_id), created

    # Personal data ------------------------------------------------------------------------

    async def export(self, identity_id: uuid.UUID) -> dict[str, object]:
        identity = await self.find_identity(identity_id)
        if identity is None:
            return {}
        sessions = (
            await self.session.execute(
                select(
                    AuthSessionRow.id,
                    AuthSessionRow.provider,
                    AuthSessionRow.created_at,
                    AuthSessionRow.last_used_at,
                    AuthSessionRow.revoked_at,
                ).where(AuthSessionRow.identity_id == identity_id)
            )
        ).all()
        return {
            "identity": identity.model_dump(mode="json"),
            "sessions": [
                {
                    "id": str(s.id),
                    "provider": s.provider,
                    "created_at": s.created_at.isoformat(),
                    "last_used_at": s.last_used_at.isoformat(),
                    "revoked_at": s.revoked_at.isoformat() if s.revoked_at else None,
                }
                for s in sessions
            ],
        }

    async def erase(self, identity_id: uuid.UUID) -> int:
        """Delete the identity; its credentials, capabilities, sessions and refresh tokens go with
        it (foreign-key cascades). Its tokens stop working at once on this worker."""
        result = await self.session.execute(delete(IdentityRow).where(IdentityRow.id == identity_id))
        self._forget_principals(identity_id=identity_id)
        return rowcount(result)

    # Internals ----------------------------------------------------------------------------

    async def _external_subject(self, request: AnonymousAuth | GoogleAuth | AppleAuth) -> tuple[AuthProvider, str]:
        if isinstance(request, AnonymousAuth):
            return AuthProvider.ANONYMOUS, request.token
        provider = AuthProvider.GOOGLE if isinstance(request, GoogleAuth) else AuthProvider.APPLE
        verified = await self._verifier(provider).verify(
            request.token, http=self.uow.resources.http(), now=self.uow.now()
        )
        return provider, verified.subject

    def _verifier(self, provider: AuthProvider) -> IdTokenVerifying:
        return self.uow.resources.id_token_verifiers[provider]

    async def _login_email(self, email: str, password: str) -> AuthResult:
        credential = await self._find_credential(AuthProvider.EMAIL, normalise_email(email))
        if not await verify_password(credential.password_hash if credential else None, password) or not credential:
            raise InvalidCredentials("Invalid email or password")
        if credential.password_hash and needs_rehash(credential.password_hash):
            credential.password_hash = await hash_password(password)
        return await self._sign_in(credential.identity_id, AuthProvider.EMAIL, credential)

    async def _refuse_upgraded_device(self, device_id: str) -> None:
        """A device id whose account was upgraded: 409 naming the ways in that account has now."""
        retired = (
            await self.session.execute(
                select(CredentialRow.identity_id).where(
                    CredentialRow.provider == RETIRED_DEVICE,
                    CredentialRow.subject_hash == self._subject_hash(AuthProvider.ANONYMOUS, device_id),
                )
            )
        ).scalar_one_or_none()
        if retired is None:
            return
        providers = sorted(
            (
                await self.session.execute(
                    select(CredentialRow.provider).where(
                        CredentialRow.identity_id == retired, CredentialRow.provider != RETIRED_DEVICE
                    )
                )
            ).scalars()
        )
        raise DeviceAccountUpgraded(
            "The account on this device was secured: sign in with " + " or ".join(providers or ["your account"]),
            extra={"sign_in_with": providers},
        )

    async def _find_credential(self, provider: AuthProvider, subject: str) -> CredentialRow | None:
        return (
            await self.session.execute(
                select(CredentialRow).where(
                    CredentialRow.provider == str(provider),
                    CredentialRow.subject_hash == self._subject_hash(provider, subject),
                )
            )
        ).scalar_one_or_none()

    async def _create_identity_with(
        self,
        provider: AuthProvider,
        subject: str,
        identity_type: IdentityType,
        *,
        password_hash: str | None = None,
        must_be_new: bool = False,
    ) -> CredentialRow:
        now = self.uow.now()
        identity = IdentityRow(
            id=uuid.uuid4(),
            identity_type=str(identity_type),
            created_at=now,
            updated_at=now,
            last_active_at=now,
        )
        credential = CredentialRow(
            id=uuid.uuid4(),
            identity_id=identity.id,
            provider=str(provider),
            subject_hash=self._subject_hash(provider, subject),
            password_hash=password_hash,
            created_at=now,
            last_used_at=now,
        )
        if not await try_insert(self.session, identity, credential):
            # A concurrent request created it first.
            if must_be_new:
                raise EmailAlreadyRegistered("An account with this email already exists")
            winner = await self._find_credential(provider, subject)
            if winner is None:
                raise CredentialInUse("That sign-in is being set up by another request; try again")
            return winner
        await event_journal(self.uow).record(
            identity.id, EventType.IDENTITY_CREATED, source=EventSource.SYSTEM, metadata={"provider": str(provider)}
        )
        return credential

    async def _sign_in(
        self, identity_id: uuid.UUID, provider: AuthProvider, credential: CredentialRow, *, record_login: bool = True
    ) -> AuthResult:
        now = self.uow.now()
        identity = await self.session.get(IdentityRow, identity_id)
        if identity is None:
            raise InvalidCredentials("Invalid credentials")
        identity.last_active_at = now
        credential.last_used_at = now
        auth_session = AuthSessionRow(
            id=uuid.uuid4(),
            identity_id=identity_id,
            provider=str(provider),
            created_at=now,
            last_used_at=now,
            expires_at=now + timedelta(days=self.uow.settings.refresh_token_days),
        )
        self.session.add(auth_session)
        await self.session.flush()  # the refresh token row references it
        if record_login:
            await event_journal(self.uow).record(
                identity_id, EventType.LOGIN, source=EventSource.API, metadata={"provider": str(provider)}
            )
        return await self._issue(identity, auth_session, now)

    async def _issue(self, identity: IdentityRow, auth_session: AuthSessionRow, now: datetime) -> AuthResult:
        refresh_token = secrets.token_urlsafe(32)
        refresh_expires = now + timedelta(days=self.uow.settings.refresh_token_days)
        auth_session.last_used_at = now
        auth_session.expires_at = refresh_expires
        self.session.add(
            RefreshTokenRow(
                id=uuid.uuid4(),
                session_id=auth_session.id,
                token_hash=self._refresh_hash(refresh_token),
                created_at=now,
                expires_at=refresh_expires,
            )
        )
        await self.session.flush()
        access_token, expires_at = self.uow.resources.tokens.issue_access(identity.id, auth_session.id, now=now)
        return AuthResult(
            identity=await self._to_model(identity),
            access_token=access_token,
            refresh_token=refresh_token,
            expires_at=expires_at,
            refresh_expires_at=refresh_expires,
        )

    async def _revoke_session(self, session_id: uuid.UUID, *, reason: str) -> None:
        await self.session.execute(
            update(AuthSessionRow)
            .where(AuthSessionRow.id == session_id, AuthSessionRow.revoked_at.is_(None))
            .values(revoked_at=self.uow.now(), revoked_reason=reason)
        )
        self._forget_principals(session_id=session_id)

    async def _revoke_sessions(self, identity_id: uuid.UUID, *, reason: str) -> None:
        await self.session.execute(
            update(AuthSessionRow)
            .where(AuthSessionRow.identity_id == identity_id, AuthSessionRow.revoked_at.is_(None))
            .values(revoked_at=self.uow.now(), revoked_reason=reason)
        )
        self._forget_principals(identity_id=identity_id)

    def _forget_principals(self, *, session_id: uuid.UUID | None = None, identity_id: uuid.UUID | None = None) -> None:
        """Stop trusting cached sessions now and once this transaction commits: between the two, a
        concurrent request still reads them as live and could cache them again."""
        self.uow.resources.principals.forget(self.session, session_id=session_id, identity_id=identity_id)

    async def _to_model(self, identity: IdentityRow) -> Identity:
        now = self.uow.now()
        capabilities = (
            await self.session.execute(
                select(CapabilityRow.capability).where(
                    CapabilityRow.identity_id == identity.id,
                    or_(CapabilityRow.expires_at.is_(None), CapabilityRow.expires_at > now),
                )
            )
        ).scalars()
        providers = (
            await self.session.execute(
                select(CredentialRow.provider).where(
                    CredentialRow.identity_id == identity.id, CredentialRow.provider != RETIRED_DEVICE
                )
            )
        ).scalars()
        return Identity(
            id=identity.id,
            type=IdentityType(identity.identity_type),
            capabilities=sorted(capabilities),
            providers=sorted(AuthProvider(p) for p in providers),
            created_at=identity.created_at,
            last_active_at=identity.last_active_at,
        )
