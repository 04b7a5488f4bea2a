"""Consent to device health sync: one row per person (granted or withdrawn, on what basis, for
which platform and privacy-policy version); every change is journalled. A sync holds the
decision it checked (a shared row lock) until it commits, so a withdrawal waits for it and a later
sync sees the withdrawal."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from src.core.contracts import DeviceDataReceived
from src.core.persistence import insert_ignore
from src.core.uow import UnitOfWork
from src.modules.event_journal import EventSource, EventType, event_journal

from .errors import HealthConsentWithdrawn
from .models import ConsentBasis, ConsentStatus, HealthConsent, HealthPlatform
from .orm import HealthConsentRow


class ConsentService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def _consent_row(
        self, identity_id: uuid.UUID, *, lock: bool = False, share: bool = False
    ) -> HealthConsentRow | None:
        query = select(HealthConsentRow).where(HealthConsentRow.identity_id == identity_id)
        if lock or share:
            # share: a sync holds the decision it checked until it commits, so a withdrawal
            # (which takes the row exclusively) waits for it, and a later sync sees the withdrawal.
            query = query.with_for_update(read=share and not lock)
        return (await self.session.execute(query)).scalar_one_or_none()

    async def health_consent(self, identity_id: uuid.UUID) -> HealthConsent | None:
        row = await self._consent_row(identity_id)
        return _consent(row) if row is not None else None

    async def _record_consent_event(self, identity_id: uuid.UUID, consent: HealthConsent) -> None:
        event = (
            EventType.HEALTH_CONSENT_GRANTED
            if consent.status == ConsentStatus.GRANTED
            else EventType.HEALTH_CONSENT_WITHDRAWN
        )
        await event_journal(self.uow).record(
            identity_id,
            event,
            source=EventSource.SYSTEM if consent.basis == ConsentBasis.FIRST_SYNC else EventSource.API,
            metadata={
                "basis": consent.basis.value,
                "platform": consent.platform.value if consent.platform else None,
                "policy_version": consent.policy_version,
            },
        )

    async def set_health_consent(
        self,
        identity_id: uuid.UUID,
        *,
        granted: bool,
        platform: HealthPlatform | None = None,
        policy_version: str | None = None,
    ) -> HealthConsent:
        now = self.uow.now()
        status = ConsentStatus.GRANTED if granted else ConsentStatus.WITHDRAWN
        values: dict[str, Any] = {
            "status": status.value,
            "basis": ConsentBasis.EXPLICIT.value,
            "platform": platform.value if platform else None,
            "policy_version": policy_version,
            "granted_at": now if granted else None,
            "withdrawn_at": None if granted else now,
            "updated_at": now,
        }
        if await insert_ignore(self.session, HealthConsentRow, {"identity_id": identity_id, **values}):
            consent = _consent(await self._locked_consent(identity_id))
            await self._record_consent_event(identity_id, consent)
            return consent
        row = await self._locked_consent(identity_id)
        before = _consent(row)
        if granted:
            # A repeated grant keeps its first instant; a new platform or policy version is a new grant.
            same = (
                before.status == ConsentStatus.GRANTED
                and before.basis == ConsentBasis.EXPLICIT
                and before.platform == platform
                and before.policy_version == policy_version
            )
            if same:
                return before
            row.granted_at = now
            row.withdrawn_at = None
            row.platform = values["platform"]
            row.policy_version = policy_version
        else:
            if before.status == ConsentStatus.WITHDRAWN:
                return before
            row.withdrawn_at = now
        row.status = status.value
        row.basis = ConsentBasis.EXPLICIT.value
        row.updated_at = now
        await self.session.flush()
        consent = _consent(row)
        await self._record_consent_event(identity_id, consent)
        return consent

    async def _locked_consent(self, identity_id: uuid.UUID) -> HealthConsentRow:
        """The row insert_ignore has just inserted or found, locked for this transaction."""
        query = select(HealthConsentRow).where(HealthConsentRow.identity_id == identity_id).with_for_update()
        return (await self.session.execute(query)).scalar_one()

    async def require_health_consent(
        self, identity_id: uuid.UUID, *, platform: HealthPlatform | None = None, record: bool = True
    ) -> HealthConsent | None:
        row = await self._consent_row(identity_id, share=record)
        if row is None:
            if not record:
                return None
            now = self.uow.now()
            inserted = await insert_ignore(
                self.session,
                HealthConsentRow,
                {
                    "identity_id": identity_id,
                    "status": ConsentStatus.GRANTED.value,
                    "basis": ConsentBasis.FIRST_SYNC.value,
                    "platform": platform.value if platform else None,
                    "policy_version": None,
                    "granted_at": now,
                    "withdrawn_at": None,
                    "updated_at": now,
                },
            )
            row = await self._locked_consent(identity_id)
            if inserted:
                await self._record_consent_event(identity_id, _consent(row))
        consent = _consent(row)
        if consent.status == ConsentStatus.WITHDRAWN:
            raise HealthConsentWithdrawn(
                "You stopped device health sync; allow it again with PUT /api/v1/health-sync/consent "
                "before sending data"
            )
        return consent


def _consent(row: HealthConsentRow) -> HealthConsent:
    return HealthConsent.model_validate(row, from_attributes=True)


async def on_device_data(uow: UnitOfWork, event: DeviceDataReceived) -> None:
    """Device data sent through the generic metrics endpoint is held to the same consent as a sync."""
    await ConsentService(uow).require_health_consent(event.identity_id)
