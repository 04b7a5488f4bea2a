"""What a handler of the shared mechanisms (event subscribers, outbox handlers, personal-data
entries) is given: a unit of work. This leaf module names the small protocol those mechanisms are
typed against, so `bus`, `outbox` and `gdpr` never import `uow`; `uow` imports them (one
direction, no cycle). The concrete `UnitOfWork` (src/core/uow.py) satisfies it, and the
mechanisms are generic in it, so mypy checks every handler against the real `UnitOfWork`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from sqlalchemy.ext.asyncio import AsyncSession


class Work(Protocol):
    @property
    def session(self) -> AsyncSession: ...

    def now(self) -> datetime: ...

    def enqueue(
        self,
        topic: str,
        payload: dict[str, Any],
        *,
        identity_id: UUID | None = None,
        available_at: datetime | None = None,
    ) -> None: ...
