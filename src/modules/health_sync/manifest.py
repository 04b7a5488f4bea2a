from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import delete

from src.core.bus import Order, Subscription
from src.core.contracts import DeviceDataReceived
from src.core.gdpr import PersonalData
from src.core.modules import ModuleManifest
from src.core.persistence import rowcount
from src.core.uow import UnitOfWork

from .consent import ConsentService, on_device_data
from .orm import HealthConsentRow
from .routes import router


async def _export(uow: UnitOfWork, identity_id: UUID) -> dict[str, Any]:
    consent = await ConsentService(uow).health_consent(identity_id)
    return {"consent": consent.model_dump(mode="json") if consent else None}


async def _erase(uow: UnitOfWork, identity_id: UUID) -> int:
    # The readings themselves are metrics (erased or anonymised there); the consent is personal.
    return rowcount(
        await uow.session.execute(delete(HealthConsentRow).where(HealthConsentRow.identity_id == identity_id))
    )


MANIFEST = ModuleManifest(
    name="health_sync",
    router=router,
    subscriptions=(
        # Before anything is stored from the device data (progression credits weight logs later).
        Subscription(DeviceDataReceived, on_device_data, order=Order.JOURNAL, name="health_sync.consent"),
    ),
    personal_data=PersonalData(
        module="health_sync",
        tables=("health_consents",),
        export=_export,
        erase=_erase,
        anonymize=None,  # the consent record is personal: anonymisation deletes it
        order=310,
    ),
)
