"""The unit of work handed to services: one database session plus the process-wide resources
(clock, settings, event bus, token codec, ...). Services flush when they need an id or a
constraint check; they never commit. The request dependency (`src/dependencies.py`) commits when
the handler returns and rolls back when it raises."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from src.core.bus import DomainEvent, EventBus, Outcome
from src.core.clock import Clock
from src.core.outbox import new_message
from src.core.settings import Settings

if TYPE_CHECKING:
    import httpx

    from src.core.catalogue import CatalogueCache
    from src.core.crypto import Keyring
    from src.core.gdpr import PersonalDataRegistry
    from src.core.outbox import OutboxDispatcher
    from src.core.ports import IdTokenVerifying, ObjectStorage
    from src.core.rate_limit import Storage
    from src.core.security import Principal, PrincipalCache, TokenCodec


class PrincipalResolver(Protocol):
    """Who is behind a live session (None once it was revoked or expired, or the identity is
    gone); provided by the identity module, used by the request dependencies."""

    async def __call__(self, uow: UnitOfWork, *, session_id: UUID, identity_id: UUID) -> Principal | None: ...


class PersonalTokens(Protocol):
    """Personal access tokens (identity module): who is behind one, and recording its use."""

    async def resolve(self, uow: UnitOfWork, token: str) -> tuple[Principal, bool] | None:
        """The token's principal (None when unknown, revoked or expired) and whether its use is
        due to be recorded (see `record_use`)."""
        ...

    async def record_use(self, uow: UnitOfWork, principal: Principal) -> None:
        """Journal the use of the token (at most once per token per hour)."""
        ...


@dataclass
class Resources:
    """Process-wide collaborators, created once per app (see `src/main.py`)."""

    settings: Settings
    clock: Clock
    bus: EventBus[UnitOfWork]
    tokens: TokenCodec
    principals: PrincipalCache
    catalogue: CatalogueCache
    personal_data: PersonalDataRegistry[UnitOfWork]
    keyring: Keyring
    outbox: OutboxDispatcher[UnitOfWork] | None = None
    # The rate-limit counters (memory or Redis), also used to share outbound request budgets
    # (e.g. NCBI's requests per second) between workers.
    rate_limits: Storage | None = None
    # Built by the app shell when the app starts (see `src/main.py`): the object storage (None
    # when its configuration is unusable: uploads then answer 503), the sign-in providers' ID
    # token verifiers (they cache the providers' keys), and how many CPU-heavy file jobs may run
    # at once per process (image decoding, document reading).
    resolve_principal: PrincipalResolver | None = None
    personal_tokens: PersonalTokens | None = None
    storage: ObjectStorage | None = None
    id_token_verifiers: Mapping[str, IdTokenVerifying] = field(default_factory=dict)
    image_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))
    document_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(2))
    _http: httpx.AsyncClient | None = None

    def http(self) -> httpx.AsyncClient:
        """The shared outbound HTTP client (adapters to external services), created on first use."""
        if self._http is None:
            import httpx

            self._http = httpx.AsyncClient(timeout=self.settings.http_timeout_seconds, follow_redirects=False)
        return self._http

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None


@dataclass
class UnitOfWork:
    session: AsyncSession
    resources: Resources
    enqueued: int = field(default=0)
    # Facts read more than once by the modules one request passes through (a person's time zone
    # during a close-a-fast cascade): the owning module keeps and invalidates its own keys.
    memo: dict[Any, Any] = field(default_factory=dict)

    @property
    def clock(self) -> Clock:
        return self.resources.clock

    @property
    def settings(self) -> Settings:
        return self.resources.settings

    def now(self) -> datetime:
        return self.resources.clock.now()

    async def release(self) -> None:
        """Commit what this unit of work did so far and give its connection back, before slow work
        (receiving a file, reading it, waiting for another service): no lock or pooled connection
        is held meanwhile. The next statement begins a new transaction. Only services call this;
        what it committed stays committed even if the request fails later."""
        await self.session.commit()

    async def publish(self, event: DomainEvent) -> Outcome:
        """Run every subscriber of `event` now, in this transaction."""
        return await self.resources.bus.publish(self, event)

    def enqueue(
        self,
        topic: str,
        payload: dict[str, Any],
        *,
        identity_id: UUID | None = None,
        available_at: datetime | None = None,
    ) -> None:
        """Queue work for after commit (delivered by the outbox dispatcher)."""
        self.session.add(
            new_message(topic, payload, now=self.now(), identity_id=identity_id, available_at=available_at)
        )
        self.enqueued += 1
