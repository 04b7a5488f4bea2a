from __future__ import annotations

import hashlib
import hmac
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Select, func, select, update

from src.core.persistence import insert_ignore
from src.core.security import Principal
from src.core.uow import UnitOfWork
from src.modules.identity import identity_service

from .errors import DeviceTokenInUse, DeviceTokenNotFound, EmailNotVerified, InvalidQuietHours, NotificationNotFound
from .interface import NOTIFY_TOPIC, NotificationInterface
from .models import (
    DeviceRegistration,
    DeviceToken,
    MarkedRead,
    Notification,
    NotificationStats,
    NotificationStatus,
    Preferences,
    PreferencesUpdate,
    Queued,
    SendPayload,
    SendRequest,
)
from .orm import DeviceTokenRow, NotificationRow, PreferencesRow

N = NotificationRow
# What the person sees in the app: delivered notifications whose in-app copy is switched on.
DELIVERED = (NotificationStatus.SENT, NotificationStatus.DELIVERED, NotificationStatus.READ)
UNREAD = (NotificationStatus.SENT, NotificationStatus.DELIVERED)
# A token already registered by someone else moves with the same device id only this soon after
# the caller signed in (a fresh sign-in on that device).
FRESH_SIGN_IN = timedelta(minutes=15)


def visible(identity_id: uuid.UUID) -> Any:
    return (N.identity_id == identity_id) & N.status.in_([str(s) for s in DELIVERED]) & N.in_app.is_(True)


class NotificationService(NotificationInterface):
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    # Producing ------------------------------------------------------------------------------

    def queue(self, payload: SendPayload) -> None:
        self.uow.enqueue(NOTIFY_TOPIC, payload.model_dump(mode="json"), identity_id=payload.identity_id)

    async def admin_send(self, admin_id: uuid.UUID, request: SendRequest) -> Queued:
        target = request.identity_id or admin_id
        if await identity_service(self.uow).find_identity(target) is None:
            raise NotificationNotFound("No such person to notify")
        key = f"admin:{uuid.uuid4()}"
        self.queue(
            SendPayload(
                identity_id=target,
                category=request.category,
                title=request.title,
                body=request.body,
                data=request.data or {},
                priority=request.priority,
                dedupe_key=key,
            )
        )
        return Queued(identity_id=target, dedupe_key=key)

    # Reading --------------------------------------------------------------------------------

    async def notifications(
        self, identity_id: uuid.UUID, *, unread_only: bool, limit: int, offset: int
    ) -> list[Notification]:
        query: Select[Any] = select(N).where(visible(identity_id))
        if unread_only:
            query = query.where(N.read_at.is_(None))
        query = query.order_by(N.created_at.desc(), N.id.desc()).limit(limit).offset(offset)
        return [Notification.model_validate(row) for row in (await self.session.execute(query)).scalars()]

    async def unread_count(self, identity_id: uuid.UUID) -> int:
        found = await self.session.execute(
            select(func.count()).select_from(N).where(visible(identity_id), N.read_at.is_(None))
        )
        return int(found.scalar_one())

    async def mark_read(self, identity_id: uuid.UUID, notification_id: uuid.UUID) -> Notification:
        row = (
            await self.session.execute(select(N).where(N.id == notification_id, visible(identity_id)).with_for_update())
        ).scalar_one_or_none()
        if row is None:
            raise NotificationNotFound("Notification not found")
        if row.read_at is None:
            row.read_at = self.uow.now()
            row.status = str(NotificationStatus.READ)
            await self.session.flush()
        return Notification.model_validate(row)

    async def mark_all_read(self, identity_id: uuid.UUID) -> MarkedRead:
        result = await self.session.execute(
            update(N)
            .where(visible(identity_id), N.read_at.is_(None))
            .values(read_at=self.uow.now(), status=str(NotificationStatus.READ))
        )
        return MarkedRead(marked_read=int(result.rowcount))  # type: ignore[attr-defined]

    async def stats(self, identity_id: uuid.UUID) -> NotificationStats:
        rows = (
            await self.session.execute(
                select(N.category, func.count(), func.count(N.read_at))
                .where(N.identity_id == identity_id, N.status.in_([str(s) for s in DELIVERED]))
                .group_by(N.category)
            )
        ).all()
        total = sum(int(r[1]) for r in rows)
        read = sum(int(r[2]) for r in rows)
        return NotificationStats(
            total_sent=total,
            total_read=read,
            read_rate=round(read * 100 / total, 1) if total else 0.0,
            by_category={str(r[0]): int(r[1]) for r in rows},
        )

    # Devices --------------------------------------------------------------------------------

    def _device_hash(self, device_id: str) -> str:
        key = self.uow.settings.identifier_hash_key.get_secret_value().encode()
        return hmac.new(key, f"push-device:{device_id}".encode(), hashlib.sha256).hexdigest()

    async def register_device(self, principal: Principal, request: DeviceRegistration) -> DeviceToken:
        now = self.uow.now()
        device_hash = self._device_hash(request.device_id) if request.device_id else None
        await insert_ignore(
            self.session,
            DeviceTokenRow,
            {
                "id": uuid.uuid4(),
                "identity_id": principal.identity_id,
                "token": request.token,
                "platform": str(request.platform),
                "is_active": True,
                "session_id": principal.session_id,
                "device_hash": device_hash,
                "last_used_at": now,
                "created_at": now,
            },
        )
        row = (
            await self.session.execute(
                select(DeviceTokenRow)
                .where(DeviceTokenRow.token == request.token)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one()
        if row.identity_id != principal.identity_id:
            if row.is_active and not await self._proves_device(principal, row, device_hash):
                raise DeviceTokenInUse(
                    "This push token belongs to another account signed in on this device; sign out there first"
                )
            row.identity_id = principal.identity_id
        row.platform = str(request.platform)
        row.is_active = True
        row.deactivated_reason = None
        row.session_id = principal.session_id
        row.device_hash = device_hash or row.device_hash
        row.last_used_at = now
        await self.session.flush()
        from .reminders import plan_daily_reminders

        await plan_daily_reminders(self.uow, principal.identity_id)
        return DeviceToken.model_validate(row)

    async def _proves_device(self, principal: Principal, row: DeviceTokenRow, device_hash: str | None) -> bool:
        """The same device id as the token's registration, presented within a fresh sign-in."""
        if device_hash is None or row.device_hash is None or not hmac.compare_digest(device_hash, row.device_hash):
            return False
        started = await identity_service(self.uow).session_started_at(principal.session_id)
        return started is not None and self.uow.now() - started <= FRESH_SIGN_IN

    async def devices(self, identity_id: uuid.UUID) -> list[DeviceToken]:
        rows = await self.session.execute(
            select(DeviceTokenRow)
            .where(DeviceTokenRow.identity_id == identity_id, DeviceTokenRow.is_active.is_(True))
            .order_by(DeviceTokenRow.created_at)
        )
        return [DeviceToken.model_validate(row) for row in rows.scalars()]

    async def deactivate_device(self, identity_id: uuid.UUID, token: str) -> None:
        result = await self.session.execute(
            update(DeviceTokenRow)
            .where(
                DeviceTokenRow.identity_id == identity_id,
                DeviceTokenRow.token == token,
                DeviceTokenRow.is_active.is_(True),
            )
            .values(is_active=False, deactivated_reason="unregistered")
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise DeviceTokenNotFound("Device token not found")

    async def deactivate_session_devices(self, identity_id: uuid.UUID, session_id: uuid.UUID) -> int:
        result = await self.session.execute(
            update(DeviceTokenRow)
            .where(
                DeviceTokenRow.identity_id == identity_id,
                DeviceTokenRow.session_id == session_id,
                DeviceTokenRow.is_active.is_(True),
            )
            .values(is_active=False, deactivated_reason="logout")
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    # Preferences ----------------------------------------------------------------------------

    async def preferences(self, identity_id: uuid.UUID) -> Preferences:
        row = await self.session.get(PreferencesRow, identity_id)
        return Preferences.model_validate(row) if row is not None else Preferences(identity_id=identity_id)

    async def update_preferences(self, identity_id: uuid.UUID, update_: PreferencesUpdate) -> Preferences:
        if nulls := update_.null_booleans():
            raise InvalidQuietHours(f"{', '.join(sorted(nulls))} cannot be null")
        changes = update_.changes()
        if changes.get("email_address") is not None and not await identity_service(self.uow).owns_email(
            identity_id, str(changes["email_address"])
        ):
            raise EmailNotVerified("Emails go only to the address you sign in with")
        now = self.uow.now()
        await insert_ignore(
            self.session, PreferencesRow, {"identity_id": identity_id, "reminder_plan": {}, "updated_at": now}
        )
        row = (
            await self.session.execute(
                select(PreferencesRow)
                .where(PreferencesRow.identity_id == identity_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        ).scalar_one()
        for name, value in changes.items():
            setattr(row, name, str(value) if name == "email_address" and value is not None else value)
        if row.quiet_hours_enabled and (row.quiet_hours_start is None or row.quiet_hours_end is None):
            raise InvalidQuietHours("Quiet hours need both quiet_hours_start and quiet_hours_end")
        row.updated_at = now
        await self.session.flush()
        from .reminders import plan_daily_reminders

        await plan_daily_reminders(self.uow, identity_id)
        return Preferences.model_validate(row)
