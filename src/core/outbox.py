"""Transactional outbox: work that must happen only after the request's transaction commits.

Inside a transaction, `uow.enqueue(topic, payload)` adds a row to `outbox_messages`; it is
committed (or rolled back) with the business change. After commit the dispatcher delivers due
messages to the handler registered for their topic, each in its own transaction, at least once:
a handler that raises is retried with exponential back-off, and after `outbox_max_attempts` the
message is parked as dead (kept for inspection). Several processes may run dispatchers at once
(API processes and `python -m src.worker`): a batch is claimed under `FOR UPDATE SKIP LOCKED` on
PostgreSQL (SQLite serialises writers), each claimed message leased until `locked_until` (renewed
while its handler runs). A claim whose lease expires (a worker killed mid-delivery) is taken again
by another worker; the claim's attempt number fences the late worker out, so its delivery is
rolled back instead of recorded twice.
A delivered message keeps its topic and times but not its payload, which may name a person (an
address, a storage key, an identity to erase): nothing personal lingers in the table.

Handlers must be idempotent: a worker that dies after the handler's effect but before recording
the delivery leaves the message to be delivered again once its lease (`OUTBOX_LEASE_SECONDS`)
expires; handlers with outside effects store what they sent (a ticket or message id). A failure
is logged with its traceback and keeps the end of that traceback (at most `LAST_ERROR_CHARS`) in
`last_error` for inspection.

The dispatcher does not know the unit-of-work class: the app shell gives it a factory
(`unit_of_work`), so this module never imports `uow` (which imports it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Index, Integer, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from src.core.clock import Clock
from src.core.persistence import rowcount
from src.core.types import JSONType, UTCDateTime
from src.core.work import Work
from src.database import Base, SessionFactory

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from src.core.settings import Settings

logger = logging.getLogger("ugoki.outbox")

LAST_ERROR_CHARS = 4000  # the end of a failure's traceback kept in `last_error`


class OutboxMessage(Base):
    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_due", "delivered_at", "dead_at", "available_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    topic: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    identity_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    available_at: Mapped[datetime] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


@dataclass(frozen=True)
class Delivery:
    """What a handler receives."""

    id: uuid.UUID
    topic: str
    payload: dict[str, Any]
    identity_id: uuid.UUID | None
    attempt: int
    created_at: datetime | None = None


def new_message(
    topic: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    identity_id: uuid.UUID | None = None,
    available_at: datetime | None = None,
) -> OutboxMessage:
    """The row `uow.enqueue` adds to the request's transaction."""
    return OutboxMessage(
        topic=topic,
        payload=payload,
        identity_id=identity_id,
        created_at=now,
        available_at=available_at or now,
        attempts=0,
    )


# An outbox handler: `async def handle(uow: UnitOfWork, delivery: Delivery) -> None`. It runs in
# its own transaction and must be idempotent (see the module docstring).
type OutboxHandler[W: Work] = Callable[[W, Delivery], Awaitable[None]]


def describe_failure(exc: BaseException) -> str:
    """The end of the traceback of `exc`, at most `LAST_ERROR_CHARS` characters."""
    text = "".join(traceback.format_exception(exc))
    return text if len(text) <= LAST_ERROR_CHARS else "…" + text[-(LAST_ERROR_CHARS - 1) :]


class OutboxDispatcher[W: Work]:
    def __init__(
        self,
        sessions: SessionFactory,
        *,
        clock: Clock,
        settings: Settings,
        unit_of_work: Callable[[AsyncSession], W],
        handlers: dict[str, OutboxHandler[W]] | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.settings = settings
        self.unit_of_work = unit_of_work
        self.handlers: dict[str, OutboxHandler[W]] = dict(handlers or {})
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def register(self, topic: str, handler: OutboxHandler[W]) -> None:
        if topic in self.handlers:
            raise ValueError(f"outbox topic {topic!r} already has a handler")
        self.handlers[topic] = handler

    def notify(self) -> None:
        """Called after a commit that enqueued messages: deliver soon."""
        self._wake.set()

    async def drain(self, *, batch: int = 50) -> int:
        """Deliver every due message now; returns how many were delivered."""
        delivered = 0
        limit = asyncio.Semaphore(self.settings.outbox_concurrency)

        async def deliver(message: Delivery) -> bool:
            async with limit:
                return await self._deliver(message)

        while True:
            claimed = await self._claim(batch)
            if not claimed:
                return delivered
            if len(claimed) == 1 or self.settings.outbox_concurrency == 1:
                results = [await self._deliver(message) for message in claimed]
            else:
                results = list(await asyncio.gather(*(deliver(message) for message in claimed)))
            delivered += sum(results)

    async def _claim(self, batch: int) -> list[Delivery]:
        now = self.clock.now()
        if not self.handlers:
            return []
        # Topics nobody handles yet stay queued untouched (no attempts burnt) until a module
        # that handles them is deployed.
        due = (
            (OutboxMessage.delivered_at.is_(None))
            & (OutboxMessage.dead_at.is_(None))
            & (OutboxMessage.available_at <= now)
            & or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until < now)
            & OutboxMessage.topic.in_(list(self.handlers))
        )
        async with self.sessions.writer() as session, session.begin():
            # Rows another worker is claiming right now are skipped, not waited for.
            rows = (
                await session.execute(
                    select(
                        OutboxMessage.id,
                        OutboxMessage.topic,
                        OutboxMessage.payload,
                        OutboxMessage.identity_id,
                        OutboxMessage.attempts,
                        OutboxMessage.created_at,
                    )
                    .where(due)
                    .order_by(OutboxMessage.available_at)
                    .limit(batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return []
            await session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_([row.id for row in rows]))
                .values(
                    locked_until=now + timedelta(seconds=self.settings.outbox_lease_seconds),
                    attempts=OutboxMessage.attempts + 1,
                )
            )
        return [
            Delivery(row.id, row.topic, dict(row.payload), row.identity_id, row.attempts + 1, row.created_at)
            for row in rows
        ]

    def _still_ours(self, message: Delivery) -> Any:
        """The claim is still this worker's: no other worker re-claimed it after the lease ran out."""
        return (
            (OutboxMessage.id == message.id)
            & (OutboxMessage.attempts == message.attempt)
            & OutboxMessage.delivered_at.is_(None)
        )

    async def _deliver(self, message: Delivery) -> bool:
        handler = self.handlers.get(message.topic)
        try:
            if handler is None:
                raise LookupError(f"no handler for outbox topic {message.topic!r}")
            async with self.sessions.writer() as session:
                work = self.unit_of_work(session)
                keeper = asyncio.create_task(self._keep_claim(message), name="outbox-lease")
                try:
                    await handler(work, message)
                finally:
                    keeper.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await keeper
                result = await session.execute(
                    update(OutboxMessage)
                    .where(self._still_ours(message))
                    .values(delivered_at=self.clock.now(), locked_until=None, last_error=None, payload={})
                )
                if rowcount(result) != 1:
                    await session.rollback()
                    logger.warning("outbox claim lost (lease expired): topic=%s", message.topic)
                    return False
                await session.commit()
            if getattr(work, "enqueued", 0):  # follow-up messages (e.g. held until later): look again
                self.notify()
            return True
        except Exception as exc:  # a failing handler must not stop the others
            logger.warning("outbox delivery failed: topic=%s attempt=%d", message.topic, message.attempt, exc_info=exc)
            await self._record_failure(message, exc)
            return False

    async def _keep_claim(self, message: Delivery) -> None:
        """Renew the lease while a slow handler runs (retries of an outside service), so that the
        message is not taken by another worker meanwhile; stops when the claim was lost."""
        lease = self.settings.outbox_lease_seconds
        while True:
            await asyncio.sleep(lease / 3)
            async with self.sessions.writer() as session, session.begin():
                result = await session.execute(
                    update(OutboxMessage)
                    .where(self._still_ours(message))
                    .values(locked_until=self.clock.now() + timedelta(seconds=lease))
                )
            if rowcount(result) != 1:
                return

    async def _record_failure(self, message: Delivery, exc: Exception) -> None:
        now = self.clock.now()
        dead = message.attempt >= self.settings.outbox_max_attempts
        backoff = timedelta(seconds=min(3600, 2**message.attempt))
        async with self.sessions.writer() as session, session.begin():
            await session.execute(
                update(OutboxMessage)
                .where(self._still_ours(message))
                .values(
                    locked_until=None,
                    last_error=describe_failure(exc),
                    available_at=now + backoff,
                    dead_at=now if dead else None,
                )
            )

    # Background loop -----------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="outbox-dispatcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.outbox_poll_seconds)
            self._wake.clear()
            try:
                await self.drain()
            except Exception:
                logger.exception("outbox dispatcher pass failed")
