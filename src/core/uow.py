"""The unit of work handed to services: one database session plus the process-wide resources
(clock, settings, event bus, token codec, ...). Services flush when they need an id or a
constraint check; they never commit. The request dependency (`src/dependencies.py`) commits when
the handler returns and rolls back when it raises."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession

from src.core.bus import DomainEvent, EventBus, Outcome
from src.core.clock import Clock
from src.core.outbox import OutboxMessage
from src.core.settings import Settings

if TYPE_CHECKING:
    import httpx

    from src.core.crypto import Keyring
    from src.core.gdpr import PersonalDataRegistry
    from src.core.outbox import OutboxDispatcher
    from src.core.rate_limit import Storage
    from src.core.security import PrincipalCache, TokenCodec


_T = TypeVar("_T")


@dataclass
class Resources:
    """Process-wide collaborators, created once per app (see `src/main.py`)."""

    settings: Settings
    clock: Clock
    bus: EventBus
    tokens: TokenCodec
    principals: PrincipalCache
    personal_data: PersonalDataRegistry
    keyring: Keyring
    outbox: OutboxDispatcher | None = None
    # The rate-limit counters (memory or Redis), also used to share outbound request budgets
    # (e.g. NCBI's requests per second) between workers.
    rate_limits: Storage | None = None
    _http: httpx.AsyncClient | None = None
    _singletons: dict[str, Any] = field(default_factory=dict)

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

    def singleton(self, key: str, factory: Callable[[], _T]) -> _T:
        """A process-level object owned by a module (e.g. a JWKS cache), created on first use."""
        if key not in self._singletons:
            self._singletons[key] = factory()
        return self._singletons[key]  # type: ignore[no-any-return]


@dataclass
class UnitOfWork:
    session: AsyncSession
    resources: Resources
    enqueued: int = field(default=0)

    @property
    def clock(self) -> Clock:
        return self.resources.clock

    @property
    def settings(self) -> Settings:
        return self.resources.settings

    def now(self) -> datetime:
        return self.resources.clock.now()

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
        now = self.now()
        self.session.add(
            OutboxMessage(
                topic=topic,
                payload=payload,
                identity_id=identity_id,
                created_at=now,
                available_at=available_at or now,
                attempts=0,
            )
        )
        self.enqueued += 1
