"""After commit: store the in-app copy, then push and email, exactly once per notification.

Outbox topics handled here:
- `notification.send` (public, `SendPayload`): a producer's message becomes one notification
  (keyed by the message, or by its `dedupe_key`), then is delivered or held for quiet hours;
- `notification.deliver` (internal): a held notification, due when the quiet hours end;
- `notification.receipts` (internal): Expo receipts of sent pushes, checked later;
- `notification.reminder` (internal, see reminders.py): a reminder checked when it falls due.

Exactly once: the notification row is unique per source; each channel delivery is a row that
is planned (and committed) before anything leaves, and records the Expo ticket id or the email
Message-ID when it has left. A worker that dies mid-delivery leaves the outbox message to be
claimed again after its lease: the rerun finds the notification, skips deliveries that hold an id
and makes only the rest. (A push accepted by Expo in the instant before its ticket was stored is
the one case sent again; it carries the same `notification_id` in its data for the app to drop.)
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy import func, select, update

from src.adapters.email import SmtpConfig, SmtpMailer
from src.adapters.expo_push import DEVICE_NOT_REGISTERED, ExpoPushClient, PushMessage
from src.core.outbox import Delivery
from src.core.persistence import lock_identity
from src.core.uow import UnitOfWork
from src.modules.identity import identity_service
from src.modules.profile import profile_service

from .models import CELEBRATIONS, NotificationCategory, NotificationPriority, NotificationStatus, SendPayload
from .orm import DeliveryRow, DeviceTokenRow, NotificationRow, PreferencesRow
from .rules import push_safe, quiet_until

logger = logging.getLogger("ugoki.notification")

DELIVER_TOPIC = "notification.deliver"
RECEIPTS_TOPIC = "notification.receipts"
RECEIPT_RECHECKS = 3

# Category switch of each category (reminder, social, coach and system are always on).
CATEGORY_SWITCH = {
    NotificationCategory.FASTING: "fasting_notifications",
    NotificationCategory.WORKOUT: "workout_notifications",
    NotificationCategory.STREAK: "streak_notifications",
    NotificationCategory.ACHIEVEMENT: "achievement_notifications",
    NotificationCategory.LEVEL_UP: "achievement_notifications",
    NotificationCategory.MOTIVATIONAL: "motivational_notifications",
}


def expo_client(uow: UnitOfWork) -> ExpoPushClient | None:
    settings = uow.settings
    if settings.push_provider != "expo":
        return None
    token = settings.expo_access_token.get_secret_value() if settings.expo_access_token else None
    return ExpoPushClient(
        uow.resources.http(),
        base_url=settings.expo_push_url,
        access_token=token,
        max_retries=settings.expo_max_retries,
        backoff_seconds=settings.expo_backoff_seconds,
    )


def mailer(uow: UnitOfWork) -> SmtpMailer | None:
    settings = uow.settings
    if settings.smtp_url is None:
        return None
    return SmtpMailer(
        SmtpConfig.from_url(settings.smtp_url.get_secret_value()),
        sender=settings.smtp_from,
        timeout=settings.http_timeout_seconds,
    )


async def _preferences(uow: UnitOfWork, identity_id: uuid.UUID) -> PreferencesRow:
    row = await uow.session.get(PreferencesRow, identity_id)
    return row if row is not None else PreferencesRow(identity_id=identity_id, **_DEFAULTS)


_DEFAULTS: dict[str, Any] = {
    "push_enabled": True,
    "email_enabled": True,
    "in_app_enabled": True,
    "fasting_notifications": True,
    "workout_notifications": True,
    "streak_notifications": True,
    "achievement_notifications": True,
    "motivational_notifications": True,
    "quiet_hours_enabled": False,
    "reminder_plan": {},
}


# Intake -------------------------------------------------------------------------------------


async def handle_send(uow: UnitOfWork, message: Delivery) -> None:
    try:
        payload = SendPayload.model_validate(message.payload)
    except ValidationError:
        # A producer's bug: retrying cannot fix it. Dropped (the message is marked delivered).
        logger.error("notification.send payload refused: %s", sorted(message.payload))
        return
    await intake(uow, payload, source_key=payload.dedupe_key or f"outbox:{message.id}", queued_at=message.created_at)


async def intake(
    uow: UnitOfWork, payload: SendPayload, *, source_key: str, queued_at: datetime | None, hold: bool = True
) -> None:
    """Store the notification once per source and deliver it, or hold it for the end of the quiet
    hours (`hold=False`: drop it instead, for reminders that mean nothing later)."""
    session = uow.session
    now = uow.now()
    # One person's notifications are taken in turn (the hourly cap is counted once, a source is
    # stored once); PostgreSQL: an advisory lock, SQLite: writers are serialised anyway.
    await lock_identity(session, "notification", payload.identity_id)
    row = await _find(uow, payload.identity_id, source_key)
    prefs: PreferencesRow | None = None
    if row is None:
        if await identity_service(uow).find_identity(payload.identity_id) is None:
            return  # the person erased their account meanwhile
        prefs = await _preferences(uow, payload.identity_id)
        category = payload.category
        priority = payload.priority or (
            NotificationPriority.HIGH if category in CELEBRATIONS else NotificationPriority.NORMAL
        )
        row = NotificationRow(
            id=uuid.uuid4(),
            identity_id=payload.identity_id,
            source_key=source_key,
            notification_type="push",
            category=str(category),
            title=payload.title,
            body=payload.body,
            data=payload.data,
            priority=str(priority),
            status=str(NotificationStatus.PENDING),
            in_app=True,
            channels_planned=False,
            created_at=now,
        )
        switch = CATEGORY_SWITCH.get(category)
        celebration = payload.celebration if payload.celebration is not None else category in CELEBRATIONS
        max_age = timedelta(hours=uow.settings.notification_celebration_max_age_hours)
        if switch is not None and not getattr(prefs, switch):
            row.status, row.failure_reason = str(NotificationStatus.FAILED), "category_disabled"
        elif celebration and queued_at is not None and now - queued_at > max_age:
            row.status, row.failure_reason = str(NotificationStatus.FAILED), "stale"
        elif priority != NotificationPriority.URGENT and prefs.quiet_hours_enabled:
            if prefs.quiet_hours_start is not None and prefs.quiet_hours_end is not None:
                zone = await profile_service(uow).timezone_of(payload.identity_id)
                row.scheduled_for = quiet_until(now, zone, prefs.quiet_hours_start, prefs.quiet_hours_end)
                if row.scheduled_for is not None and not hold:
                    row.status, row.failure_reason = str(NotificationStatus.FAILED), "quiet_hours"
                    row.scheduled_for = None
        session.add(row)
        if row.status == NotificationStatus.FAILED or row.scheduled_for is not None:
            await session.flush()
        if row.scheduled_for is not None:
            uow.enqueue(
                DELIVER_TOPIC,
                {"notification_id": str(row.id)},
                identity_id=row.identity_id,
                available_at=row.scheduled_for,
            )
            return
    if row.status == NotificationStatus.PENDING and row.scheduled_for is not None and row.scheduled_for > now:
        return  # held for quiet hours: its own message delivers it when they end
    await deliver(uow, row, prefs=prefs, locked=True)


async def _find(uow: UnitOfWork, identity_id: uuid.UUID, source_key: str) -> NotificationRow | None:
    return (
        await uow.session.execute(
            select(NotificationRow)
            .where(NotificationRow.identity_id == identity_id, NotificationRow.source_key == source_key)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()


async def handle_deliver(uow: UnitOfWork, message: Delivery) -> None:
    try:
        notification_id = uuid.UUID(str(message.payload.get("notification_id")))
    except ValueError:
        return
    row = await uow.session.get(NotificationRow, notification_id, populate_existing=True)
    if row is not None:
        await deliver(uow, row, prefs=None, locked=False)


# Delivery -----------------------------------------------------------------------------------


async def deliver(uow: UnitOfWork, row: NotificationRow, *, prefs: PreferencesRow | None, locked: bool) -> None:
    if row.status == NotificationStatus.FAILED:
        return
    session = uow.session
    if not locked and not row.channels_planned:
        await lock_identity(session, "notification", row.identity_id)
        await session.refresh(row)  # another worker may have planned it meanwhile (an expired lease)
    if row.channels_planned:
        await session.commit()
        queued = await _queued(uow, row)
    else:
        queued = await _plan(uow, row, prefs or await _preferences(uow, row.identity_id))
        # The in-app copy and the planned deliveries are saved before anything leaves.
        await session.commit()
    pushes = [q for q in queued if q[0].channel == "push"]
    emails = [q for q in queued if q[0].channel == "email"]
    if pushes:
        await _push(uow, row, pushes)
    if emails:
        await session.commit()  # push tickets first: a failing email must not send them again
        await _email(uow, row, emails)
    # What is left is committed by the dispatcher with the message's own completion.


async def _plan(uow: UnitOfWork, row: NotificationRow, prefs: PreferencesRow) -> list[Any]:
    """Decide the channels once: the in-app copy, a push per active device (within the hourly cap)
    and an email to the verified address. Returns the planned deliveries as `_queued` does."""
    session = uow.session
    now = uow.now()
    settings = uow.settings
    if row.status == NotificationStatus.PENDING:
        row.status = str(NotificationStatus.SENT)
        row.sent_at = now
    row.in_app = prefs.in_app_enabled
    planned: list[Any] = []
    if prefs.push_enabled:
        urgent = row.priority == NotificationPriority.URGENT
        if urgent or await _pushes_last_hour(uow, row) < settings.notification_push_hourly_cap:
            tokens = await session.execute(
                select(DeviceTokenRow.id, DeviceTokenRow.token).where(
                    DeviceTokenRow.identity_id == row.identity_id, DeviceTokenRow.is_active.is_(True)
                )
            )
            planned += [(_delivery(row, "push", now, token_id), token, True) for token_id, token in tokens.all()]
    if prefs.email_enabled and settings.smtp_url is not None and prefs.email_address:
        if await identity_service(uow).owns_email(row.identity_id, prefs.email_address):
            planned.append((_delivery(row, "email", now, None), None, True))
    row.channels_planned = True
    session.add(row)
    await session.flush()  # the notification before its deliveries (no ORM relationship orders them)
    session.add_all([delivery for delivery, _, _ in planned])
    await session.flush()
    return planned


def _delivery(row: NotificationRow, channel: str, now: datetime, token_id: uuid.UUID | None) -> DeliveryRow:
    return DeliveryRow(
        id=uuid.uuid4(),
        notification_id=row.id,
        identity_id=row.identity_id,
        channel=channel,
        category=row.category,
        device_token_id=token_id,
        status="queued",
        created_at=now,
    )


async def _pushes_last_hour(uow: UnitOfWork, row: NotificationRow) -> int:
    found = await uow.session.execute(
        select(func.count(func.distinct(DeliveryRow.notification_id))).where(
            DeliveryRow.identity_id == row.identity_id,
            DeliveryRow.channel == "push",
            DeliveryRow.category == row.category,
            DeliveryRow.created_at > uow.now() - timedelta(hours=1),
        )
    )
    return int(found.scalar_one())


async def _queued(uow: UnitOfWork, row: NotificationRow) -> list[Any]:
    return list(
        (
            await uow.session.execute(
                select(DeliveryRow, DeviceTokenRow.token, DeviceTokenRow.is_active)
                .outerjoin(DeviceTokenRow, DeviceTokenRow.id == DeliveryRow.device_token_id)
                .where(DeliveryRow.notification_id == row.id, DeliveryRow.status == "queued")
                .execution_options(populate_existing=True)
            )
        ).all()
    )


async def _push(uow: UnitOfWork, row: NotificationRow, queued: list[Any]) -> None:
    now = uow.now()
    client = expo_client(uow)
    sendable = []
    for delivery, token, active in queued:
        if not active or token is None:
            delivery.status, delivery.error = "error", "token_inactive"
        elif client is None:  # no push provider: recorded only
            delivery.status, delivery.sent_at = "recorded", now
        else:
            sendable.append((delivery, token))
    if not sendable or client is None:
        return
    messages = [
        PushMessage(
            to=token,
            title=push_safe(row.title),
            body=push_safe(row.body),
            # Ids only: the app fetches the notification (and any details) after the tap.
            data={"notification_id": str(row.id), "category": row.category},
            priority="high" if row.priority in (NotificationPriority.HIGH, NotificationPriority.URGENT) else "default",
        )
        for _, token in sendable
    ]
    tickets = await client.send(messages)  # unavailable → raises: the message is retried later
    ticket_ids: list[str] = []
    for (delivery, _), ticket in zip(sendable, tickets, strict=True):
        delivery.sent_at = now
        if ticket.ok and ticket.id:
            delivery.status, delivery.external_id = "sent", ticket.id
            ticket_ids.append(ticket.id)
        else:
            delivery.status, delivery.error = "error", (ticket.error or "ticket_error")[:60]
            if ticket.error == DEVICE_NOT_REGISTERED and delivery.device_token_id is not None:
                await _deactivate(uow, delivery.device_token_id)
    if ticket_ids:
        uow.enqueue(
            RECEIPTS_TOPIC,
            {"ticket_ids": ticket_ids, "check": 1},
            available_at=now + timedelta(seconds=uow.settings.expo_receipt_delay_seconds),
        )


async def _deactivate(uow: UnitOfWork, token_id: uuid.UUID) -> None:
    await uow.session.execute(
        update(DeviceTokenRow)
        .where(DeviceTokenRow.id == token_id)
        .values(is_active=False, deactivated_reason="device_not_registered")
    )


async def _email(uow: UnitOfWork, row: NotificationRow, queued: list[Any]) -> None:
    smtp = mailer(uow)
    prefs = await _preferences(uow, row.identity_id)
    for delivery, _, _ in queued:
        if smtp is None or not prefs.email_address or not prefs.email_enabled:
            delivery.status, delivery.error = "error", "email_off"
            continue
        message_id = f"<{delivery.id}@notifications.ugoki.app>"
        await smtp.send(to=prefs.email_address, subject=row.title, text=row.body, message_id=message_id)
        delivery.status, delivery.external_id, delivery.sent_at = "sent", message_id, uow.now()
        await uow.session.commit()


# Receipts -----------------------------------------------------------------------------------


async def handle_receipts(uow: UnitOfWork, message: Delivery) -> None:
    ids = [str(i) for i in message.payload.get("ticket_ids", [])][:1000]
    client = expo_client(uow)
    if not ids or client is None:
        return
    receipts = await client.receipts(ids)
    now = uow.now()
    if receipts:
        rows = await uow.session.execute(
            select(DeliveryRow).where(DeliveryRow.channel == "push", DeliveryRow.external_id.in_(list(receipts)))
        )
        reached: set[uuid.UUID] = set()
        for delivery in rows.scalars():
            receipt = receipts[delivery.external_id or ""]
            delivery.checked_at = now
            if receipt.status == "ok":
                delivery.status = "delivered"
                reached.add(delivery.notification_id)
            else:
                delivery.status, delivery.error = "error", (receipt.error or "receipt_error")[:60]
                if receipt.error == DEVICE_NOT_REGISTERED and delivery.device_token_id is not None:
                    await _deactivate(uow, delivery.device_token_id)
        if reached:  # the push services accepted it for a device: `delivered` (unless already read)
            await uow.session.execute(
                update(NotificationRow)
                .where(NotificationRow.id.in_(reached), NotificationRow.status == str(NotificationStatus.SENT))
                .values(status=str(NotificationStatus.DELIVERED))
            )
    missing = [i for i in ids if i not in receipts]
    check = int(message.payload.get("check", 1))
    if missing and check < RECEIPT_RECHECKS:  # not ready yet: ask again later
        uow.enqueue(
            RECEIPTS_TOPIC,
            {"ticket_ids": missing, "check": check + 1},
            available_at=now + timedelta(seconds=max(60, uow.settings.expo_receipt_delay_seconds)),
        )
