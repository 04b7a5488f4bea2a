from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from sqlalchemy import delete, update

from src.core.gdpr import PersonalData
from src.core.modules import ModuleManifest
from src.core.persistence import rowcount
from src.core.uow import UnitOfWork

from .orm import MetricRow
from .routes import router
from .service import MetricsService


async def _export(uow: UnitOfWork, identity_id: UUID) -> dict[str, Any]:
    return {"metrics": await MetricsService(uow).export(identity_id)}


def _export_rows(uow: UnitOfWork, identity_id: UUID) -> AsyncIterator[dict[str, Any]]:
    return MetricsService(uow).export_rows(identity_id)


async def _erase(uow: UnitOfWork, identity_id: UUID) -> int:
    return rowcount(await uow.session.execute(delete(MetricRow).where(MetricRow.identity_id == identity_id)))


async def _anonymize(uow: UnitOfWork, identity_id: UUID, replacement_id: UUID) -> int:
    # Measurements are kept for aggregate statistics; notes are personal.
    result = await uow.session.execute(
        update(MetricRow).where(MetricRow.identity_id == identity_id).values(identity_id=replacement_id, note=None)
    )
    return rowcount(result)


MANIFEST = ModuleManifest(
    name="metrics",
    router=router,
    personal_data=PersonalData(
        module="metrics",
        tables=("metrics",),
        export=_export,
        erase=_erase,
        anonymize=_anonymize,
        order=300,
        export_rows=_export_rows,  # a long series (e.g. years of device weigh-ins) is streamed
        export_rows_key="metrics",
    ),
)
