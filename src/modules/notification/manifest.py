from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import delete, select

from src.core.bus import Order, Subscription
from src.core.contracts import FastCompleted, FastPlanChanged, SignedOut, WeightLogged, WorkoutCompleted
from src.core.gdpr import PersonalData
from src.core.modules import ModuleManifest
from src.core.uow import UnitOfWork

from .delivery import DELIVER_TOPIC, RECEIPTS_TOPIC, handle_deliver, handle_receipts, handle_send
from .interface import NOTIFY_TOPIC
from .models import DeviceToken, Notification, Preferences
from .orm import DeliveryRow, DeviceTokenRow, NotificationRow, PreferencesRow
from .reminders import (
    REMINDER_TOPIC,
    handle_reminder,
    on_fast_completed,
    on_fast_plan,
    on_weight_logged,
    on_workout_completed,
)
from .routes import router
from .service import NotificationService


async def _on_signed_out(uow: UnitOfWork, event: SignedOut) -> None:
    await NotificationService(uow).deactivate_session_devices(event.identity_id, event.session_id)


async def _export(uow: UnitOfWork, identity_id: UUID) -> dict[str, Any]:
    session = uow.session
    notifications = await session.execute(
        select(NotificationRow).where(NotificationRow.identity_id == identity_id).order_by(NotificationRow.created_at)
    )
    deliveries = await session.execute(
        select(DeliveryRow).where(DeliveryRow.identity_id == identity_id).order_by(DeliveryRow.created_at)
    )
    tokens = await session.execute(select(DeviceTokenRow).where(DeviceTokenRow.identity_id == identity_id))
    prefs = await session.get(PreferencesRow, identity_id)
    return {
        "notifications": [
            {
                **Notification.model_validate(row).model_dump(mode="json"),
                "failure_reason": row.failure_reason,
                "in_app": row.in_app,
            }
            for row in notifications.scalars()
        ],
        "deliveries": [
            {
                "notification_id": str(row.notification_id),
                "channel": row.channel,
                "status": row.status,
                "error": row.error,
                "created_at": row.created_at.isoformat(),
                "sent_at": row.sent_at.isoformat() if row.sent_at else None,
            }
            for row in deliveries.scalars()
        ],
        "device_tokens": [
            {**DeviceToken.model_validate(row).model_dump(mode="json"), "deactivated_reason": row.deactivated_reason}
            for row in tokens.scalars()
        ],
        "preferences": None if prefs is None else Preferences.model_validate(prefs).model_dump(mode="json"),
    }


async def _erase(uow: UnitOfWork, identity_id: UUID) -> int:
    total = 0
    for row_type in (DeliveryRow, NotificationRow, DeviceTokenRow, PreferencesRow):
        result = await uow.session.execute(delete(row_type).where(row_type.identity_id == identity_id))
        total += int(result.rowcount)  # type: ignore[attr-defined]
    return total


MANIFEST = ModuleManifest(
    name="notification",
    router=router,
    subscriptions=(
        Subscription(FastPlanChanged, on_fast_plan, order=Order.NOTIFICATION, name="notification.fast_reminders"),
        Subscription(FastCompleted, on_fast_completed, order=Order.NOTIFICATION, name="notification.streak_fast"),
        Subscription(
            WorkoutCompleted, on_workout_completed, order=Order.NOTIFICATION, name="notification.streak_workout"
        ),
        Subscription(WeightLogged, on_weight_logged, order=Order.NOTIFICATION, name="notification.streak_logging"),
        Subscription(SignedOut, _on_signed_out, order=Order.NOTIFICATION, name="notification.sign_out"),
    ),
    outbox_handlers={
        NOTIFY_TOPIC: handle_send,
        DELIVER_TOPIC: handle_deliver,
        RECEIPTS_TOPIC: handle_receipts,
        REMINDER_TOPIC: handle_reminder,
    },
    # Nothing here is worth keeping without the person: anonymisation erases it.
    personal_data=PersonalData(
        module="notification",
        tables=("notifications", "notification_deliveries", "device_tokens", "notification_preferences"),
        export=_export,
        erase=_erase,
        order=200,
    ),
)
