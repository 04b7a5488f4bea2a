"""Personal access tokens: tokens a person makes for their own integrations (a spreadsheet, a
home automation, a script), limited to scopes and an expiry, revocable, stored only as a keyed
hash. Routes accept them only where they declare a scope the token holds (src/core/scopes.py)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta

from sqlalchemy import and_, func, or_, select, update

from src.core.persistence import rowcount
from src.core.scopes import PERSONAL_TOKEN_PREFIX, TokenScope
from src.core.security import Principal
from src.core.uow import UnitOfWork
from src.modules.event_journal import EventSource, EventType, event_journal

from .errors import PersonalTokenNotFound, TooManyPersonalTokens
from .models import (
    PERSONAL_TOKENS_PER_IDENTITY,
    CreatedPersonalToken,
    PersonalToken,
    PersonalTokenCreate,
)
from .orm import IdentityRow, PersonalAccessTokenRow

# The journal records a token's use at most this often (and `last_used_at` moves as often).
USE_RECORD_INTERVAL = timedelta(hours=1)
HINT_CHARS = 4


class PersonalTokens:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session
        self._key = uow.settings.identifier_hash_key.get_secret_value().encode()

    def _hash(self, token: str) -> str:
        return hmac.new(self._key, f"pat:{token}".encode(), hashlib.sha256).hexdigest()

    async def create(self, identity_id: uuid.UUID, request: PersonalTokenCreate) -> CreatedPersonalToken:
        now = self.uow.now()
        # One token is made at a time per person: the count below stays true under concurrency.
        await self.session.execute(select(IdentityRow.id).where(IdentityRow.id == identity_id).with_for_update())
        live = await self.session.scalar(
            select(func.count())
            .select_from(PersonalAccessTokenRow)
            .where(
                PersonalAccessTokenRow.identity_id == identity_id,
                PersonalAccessTokenRow.revoked_at.is_(None),
                PersonalAccessTokenRow.expires_at > now,
            )
        )
        if (live or 0) >= PERSONAL_TOKENS_PER_IDENTITY:
            raise TooManyPersonalTokens(
                f"At most {PERSONAL_TOKENS_PER_IDENTITY} live tokens; revoke one you no longer use"
            )
        token = PERSONAL_TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = PersonalAccessTokenRow(
            id=uuid.uuid4(),
            identity_id=identity_id,
            name=request.name,
            scopes=sorted({str(scope) for scope in request.scopes}),
            token_hash=self._hash(token),
            hint=token[: len(PERSONAL_TOKEN_PREFIX) + HINT_CHARS],
            created_at=now,
            expires_at=now + timedelta(days=request.expires_in_days),
        )
        self.session.add(row)
        await self.session.flush()
        await event_journal(self.uow).record(
            identity_id,
            EventType.PERSONAL_TOKEN_CREATED,
            related_id=row.id,
            related_type="personal_access_token",
            metadata={"scopes": row.scopes},
        )
        return CreatedPersonalToken(**_model(row).model_dump(), token=token)

    async def list_tokens(self, identity_id: uuid.UUID) -> list[PersonalToken]:
        rows = await self.session.scalars(
            select(PersonalAccessTokenRow)
            .where(PersonalAccessTokenRow.identity_id == identity_id)
            .order_by(PersonalAccessTokenRow.created_at.desc(), PersonalAccessTokenRow.id)
        )
        return [_model(row) for row in rows]

    async def revoke(self, identity_id: uuid.UUID, token_id: uuid.UUID) -> PersonalToken:
        row = await self.session.scalar(
            select(PersonalAccessTokenRow)
            .where(PersonalAccessTokenRow.id == token_id, PersonalAccessTokenRow.identity_id == identity_id)
            .with_for_update()
        )
        if row is None:
            raise PersonalTokenNotFound("No such token")
        if row.revoked_at is None:
            row.revoked_at = self.uow.now()
            await self.session.flush()
            await event_journal(self.uow).record(
                identity_id, EventType.PERSONAL_TOKEN_REVOKED, related_id=row.id, related_type="personal_access_token"
            )
        return _model(row)

    async def resolve(self, token: str) -> tuple[Principal, bool] | None:
        now = self.uow.now()
        row = (
            await self.session.execute(
                select(
                    PersonalAccessTokenRow.id,
                    PersonalAccessTokenRow.identity_id,
                    PersonalAccessTokenRow.scopes,
                    PersonalAccessTokenRow.last_used_at,
                    IdentityRow.identity_type,
                )
                .join(IdentityRow, IdentityRow.id == PersonalAccessTokenRow.identity_id)
                .where(
                    PersonalAccessTokenRow.token_hash == self._hash(token),
                    PersonalAccessTokenRow.revoked_at.is_(None),
                    PersonalAccessTokenRow.expires_at > now,
                )
            )
        ).one_or_none()
        if row is None:
            return None
        principal = Principal(
            identity_id=row.identity_id,
            session_id=row.id,
            identity_type=row.identity_type,
            capabilities=frozenset(),
            scopes=frozenset(row.scopes),
        )
        due = row.last_used_at is None or row.last_used_at <= now - USE_RECORD_INTERVAL
        return principal, due

    async def record_use(self, principal: Principal) -> None:
        """Move `last_used_at` and journal the use, unless another request did within the hour
        (a conditional update: concurrent requests record it once)."""
        now = self.uow.now()
        result = await self.session.execute(
            update(PersonalAccessTokenRow)
            .where(
                PersonalAccessTokenRow.id == principal.session_id,
                or_(
                    PersonalAccessTokenRow.last_used_at.is_(None),
                    and_(PersonalAccessTokenRow.last_used_at <= now - USE_RECORD_INTERVAL),
                ),
            )
            .values(last_used_at=now)
        )
        if rowcount(result) == 1:
            await event_journal(self.uow).record(
                principal.identity_id,
                EventType.PERSONAL_TOKEN_USED,
                related_id=principal.session_id,
                related_type="personal_access_token",
                source=EventSource.API,
            )

    async def export(self, identity_id: uuid.UUID) -> list[dict[str, object]]:
        return [token.model_dump(mode="json") for token in await self.list_tokens(identity_id)]


def _model(row: PersonalAccessTokenRow) -> PersonalToken:
    return PersonalToken(
        id=row.id,
        name=row.name,
        scopes=[TokenScope(scope) for scope in row.scopes if scope in TokenScope._value2member_map_],
        hint=row.hint + "…",
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )
