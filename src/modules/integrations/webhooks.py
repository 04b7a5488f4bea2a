"""Webhooks: people register HTTPS endpoints for event types; each event becomes a delivery in
the log and an outbox message, sent after commit, signed (Standard Webhooks), retried with
back-off; an endpoint that has failed for `DISABLE_AFTER` is disabled and its owner notified."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, select

from src.adapters.webhooks import TargetRefused, WebhookSender, new_secret, resolve_target
from src.core.lean import HotQuery
from src.core.outbox import Delivery
from src.core.persistence import rowcount
from src.core.uow import UnitOfWork

from .errors import TooManyWebhookEndpoints, WebhookEndpointNotFound, WebhookTargetRefused
from .models import (
    MAX_ENDPOINTS_PER_IDENTITY,
    CreatedWebhookEndpoint,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointCreate,
    WebhookEventType,
)
from .orm import WebhookDeliveryRow, WebhookEndpointRow

DELIVER_TOPIC = "webhook.deliver"
NOTIFY_TOPIC = "notification.send"
# Wait before attempt n+1 (after attempt n failed). The whole run spans a bit over three days,
# so an endpoint that never answers is disabled by the retries of a single event.
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=24),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
DISABLE_AFTER = timedelta(days=3)
LOG_RETENTION = timedelta(days=30)
DELIVERY_LOG_LIMIT = 100
# Read on every activity a person logs (to learn whether anything is subscribed to it).
_ACTIVE_ENDPOINTS = HotQuery(
    lambda: select(WebhookEndpointRow.id, WebhookEndpointRow.event_types).where(
        WebhookEndpointRow.identity_id == bindparam("identity_id"), WebhookEndpointRow.disabled_at.is_(None)
    )
)


def _endpoint(row: WebhookEndpointRow) -> WebhookEndpoint:
    return WebhookEndpoint(
        id=row.id,
        url=row.url,
        event_types=[WebhookEventType(t) for t in row.event_types if t in WebhookEventType._value2member_map_],
        description=row.description,
        created_at=row.created_at,
        failing_since=row.failing_since,
        disabled_at=row.disabled_at,
    )


def _delivery(row: WebhookDeliveryRow) -> WebhookDelivery:
    return WebhookDelivery(
        id=row.id,
        endpoint_id=row.endpoint_id,
        event_type=WebhookEventType(row.event_type),
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        response_code=row.response_code,
        error=row.error,
        created_at=row.created_at,
        last_attempt_at=row.last_attempt_at,
        next_attempt_at=row.next_attempt_at,
    )


class Webhooks:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    @property
    def _allow_private(self) -> bool:
        return self.uow.settings.webhook_allow_private_targets

    # Endpoints -----------------------------------------------------------------------------

    async def create(self, identity_id: uuid.UUID, request: WebhookEndpointCreate) -> CreatedWebhookEndpoint:
        # Resolving the host may take a while: hold no transaction (nor SQLite's write lock) meanwhile.
        await self.uow.release()
        try:
            await resolve_target(request.url, allow_private=self._allow_private)
        except TargetRefused as exc:
            raise WebhookTargetRefused(str(exc)) from exc
        count = await self.session.scalar(
            select(func.count())
            .select_from(WebhookEndpointRow)
            .where(WebhookEndpointRow.identity_id == identity_id, WebhookEndpointRow.disabled_at.is_(None))
        )
        if (count or 0) >= MAX_ENDPOINTS_PER_IDENTITY:
            raise TooManyWebhookEndpoints(f"At most {MAX_ENDPOINTS_PER_IDENTITY} active endpoints")
        secret = new_secret()
        row = WebhookEndpointRow(
            id=uuid.uuid4(),
            identity_id=identity_id,
            url=request.url,
            event_types=sorted({str(t) for t in request.event_types}),
            description=request.description,
            secret_encrypted=self.uow.resources.keyring.encrypt(secret),
            created_at=self.uow.now(),
        )
        self.session.add(row)
        await self.session.flush()
        return CreatedWebhookEndpoint(**_endpoint(row).model_dump(), secret=secret)

    async def list_endpoints(self, identity_id: uuid.UUID) -> list[WebhookEndpoint]:
        rows = await self.session.scalars(
            select(WebhookEndpointRow)
            .where(WebhookEndpointRow.identity_id == identity_id)
            .order_by(WebhookEndpointRow.created_at, WebhookEndpointRow.id)
        )
        return [_endpoint(row) for row in rows]

    async def _owned(self, identity_id: uuid.UUID, endpoint_id: uuid.UUID) -> WebhookEndpointRow:
        row = await self.session.get(WebhookEndpointRow, endpoint_id)
        if row is None or row.identity_id != identity_id:
            raise WebhookEndpointNotFound("No such webhook endpoint")
        return row

    async def delete(self, identity_id: uuid.UUID, endpoint_id: uuid.UUID) -> None:
        row = await self._owned(identity_id, endpoint_id)
        await self.session.execute(delete(WebhookDeliveryRow).where(WebhookDeliveryRow.endpoint_id == row.id))
        await self.session.delete(row)
        await self.session.flush()

    async def deliveries(self, identity_id: uuid.UUID, endpoint_id: uuid.UUID) -> list[WebhookDelivery]:
        await self._owned(identity_id, endpoint_id)
        rows = await self.session.scalars(
            select(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.endpoint_id == endpoint_id)
            .order_by(WebhookDeliveryRow.created_at.desc(), WebhookDeliveryRow.id)
            .limit(DELIVERY_LOG_LIMIT)
        )
        return [_delivery(row) for row in rows]

    # Events -> deliveries ------------------------------------------------------------------

    async def emit(
        self, identity_id: uuid.UUID, event_type: WebhookEventType, occurred_at: datetime, data: dict[str, Any]
    ) -> int:
        """Queue `event_type` for every active endpoint of the person subscribed to it (inside the
        transaction of the event: nothing is sent if it rolls back)."""
        endpoints = [
            endpoint_id for endpoint_id, types in await self._subscribed(identity_id) if str(event_type) in types
        ]
        if not endpoints:
            return 0
        now = self.uow.now()
        await self.session.execute(
            delete(WebhookDeliveryRow).where(
                WebhookDeliveryRow.identity_id == identity_id, WebhookDeliveryRow.created_at < now - LOG_RETENTION
            )
        )
        body = {"type": str(event_type), "timestamp": occurred_at.isoformat(), "data": data}
        for endpoint_id in endpoints:
            msg_id = f"msg_{uuid.uuid4().hex}"
            self.session.add(
                WebhookDeliveryRow(
                    id=msg_id,
                    endpoint_id=endpoint_id,
                    identity_id=identity_id,
                    event_type=str(event_type),
                    body=body,
                    status=DeliveryStatus.PENDING,
                    attempts=0,
                    created_at=now,
                    next_attempt_at=now,
                )
            )
            self.uow.enqueue(DELIVER_TOPIC, {"delivery_id": msg_id, "attempt": 1}, identity_id=identity_id)
        await self.session.flush()
        return len(endpoints)

    async def _subscribed(self, identity_id: uuid.UUID) -> list[tuple[uuid.UUID, frozenset[str]]]:
        """The person's active endpoints and their event types, read once per transaction: one
        activity publishes several events (a fast, the achievements and level it brought), and
        reading them again for each would make the statements grow with the unlocks."""
        cache: dict[uuid.UUID, list[tuple[uuid.UUID, frozenset[str]]]] = self.session.info.setdefault(
            "webhook_endpoints", {}
        )
        if identity_id not in cache:
            rows = await _ACTIVE_ENDPOINTS.all(self.session, identity_id=identity_id)
            cache[identity_id] = [(row.id, frozenset(row.event_types)) for row in rows]
        return cache[identity_id]

    # Sending (outbox handler) --------------------------------------------------------------

    async def deliver(self, message: Delivery) -> None:
        """One attempt of one delivery. Never raises for the endpoint's failures: the attempt is
        logged and the next one queued here, with our own back-off. A message delivered twice
        (an expired claim) finds its attempt already made and does nothing."""
        delivery_id = str(message.payload.get("delivery_id", ""))
        attempt = int(message.payload.get("attempt", 1))
        row = await self.session.get(WebhookDeliveryRow, delivery_id)
        if row is None or row.status != DeliveryStatus.PENDING or row.attempts >= attempt:
            return
        endpoint = await self.session.get(WebhookEndpointRow, row.endpoint_id)
        if endpoint is None:
            return
        if endpoint.disabled_at is not None:
            row.status = DeliveryStatus.SKIPPED
            row.next_attempt_at = None
            return
        secret = self.uow.resources.keyring.decrypt(endpoint.secret_encrypted)
        url, body = endpoint.url, json.dumps(row.body, separators=(",", ":")).encode()
        # The request to the endpoint may take seconds: no transaction stays open meanwhile.
        await self.uow.release()
        sender = WebhookSender(
            self.uow.resources.http(),
            allow_private=self._allow_private,
            timeout_seconds=self.uow.settings.webhook_timeout_seconds,
        )
        result = await sender.send(
            url, secret=secret, msg_id=delivery_id, timestamp=int(self.uow.now().timestamp()), body=body
        )
        await self._record(delivery_id, attempt, result.status_code, result.error, succeeded=result.succeeded)

    async def _record(
        self, delivery_id: str, attempt: int, status_code: int | None, error: str | None, *, succeeded: bool
    ) -> None:
        now = self.uow.now()
        row = await self.session.get(WebhookDeliveryRow, delivery_id, with_for_update=True, populate_existing=True)
        if row is None or row.attempts >= attempt:
            return  # erased meanwhile, or another worker recorded this attempt
        endpoint = await self.session.get(
            WebhookEndpointRow, row.endpoint_id, with_for_update=True, populate_existing=True
        )
        row.attempts = attempt
        row.last_attempt_at = now
        row.response_code = status_code
        row.error = None if succeeded else (error or f"answered {status_code}")[:200]
        if succeeded:
            row.status = DeliveryStatus.SUCCEEDED
            row.next_attempt_at = None
            if endpoint is not None:
                endpoint.failing_since = None
            return
        if endpoint is not None and endpoint.disabled_at is None:
            endpoint.failing_since = endpoint.failing_since or now
            if now - endpoint.failing_since >= DISABLE_AFTER:
                self._disable(endpoint, now)
        if attempt >= MAX_ATTEMPTS or endpoint is None or endpoint.disabled_at is not None:
            row.status = DeliveryStatus.FAILED
            row.next_attempt_at = None
            return
        row.next_attempt_at = now + RETRY_DELAYS[attempt - 1]
        self.uow.enqueue(
            DELIVER_TOPIC,
            {"delivery_id": delivery_id, "attempt": attempt + 1},
            identity_id=row.identity_id,
            available_at=row.next_attempt_at,
        )

    def _disable(self, endpoint: WebhookEndpointRow, now: datetime) -> None:
        endpoint.disabled_at = now
        host = endpoint.url.split("//", 1)[-1].split("/", 1)[0]
        self.uow.enqueue(
            NOTIFY_TOPIC,
            {
                "identity_id": str(endpoint.identity_id),
                "category": "system",
                "title": "Webhook turned off",
                "body": f"Your webhook to {host} has failed for 3 days, so we stopped sending to it.",
                "data": {"webhook_endpoint_id": str(endpoint.id)},
            },
            identity_id=endpoint.identity_id,
        )

    # Personal data -------------------------------------------------------------------------

    async def export(self, identity_id: uuid.UUID) -> dict[str, Any]:
        endpoints = await self.list_endpoints(identity_id)
        deliveries = await self.session.scalars(
            select(WebhookDeliveryRow)
            .where(WebhookDeliveryRow.identity_id == identity_id)
            .order_by(WebhookDeliveryRow.created_at)
        )
        return {
            "webhook_endpoints": [e.model_dump(mode="json") for e in endpoints],
            "webhook_deliveries": [{**_delivery(row).model_dump(mode="json"), "body": row.body} for row in deliveries],
        }

    async def erase(self, identity_id: uuid.UUID) -> int:
        deleted = await self.session.execute(
            delete(WebhookDeliveryRow).where(WebhookDeliveryRow.identity_id == identity_id)
        )
        endpoints = await self.session.execute(
            delete(WebhookEndpointRow).where(WebhookEndpointRow.identity_id == identity_id)
        )
        return rowcount(deleted) + rowcount(endpoints)
