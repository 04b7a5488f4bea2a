from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import delete, update

from src.adapters.storage import DELETE_TOPIC as STORAGE_DELETE_TOPIC
from src.core.gdpr import PersonalData
from src.core.modules import ModuleManifest
from src.core.uow import UnitOfWork

from .orm import HealthConsentRow, LabReportRow, MetricRow
from .routes import router
from .service import MetricsService


async def _export(uow: UnitOfWork, identity_id: UUID) -> dict[str, Any]:
    from sqlalchemy import select

    reports = await uow.session.execute(select(LabReportRow).where(LabReportRow.identity_id == identity_id))
    consent = await MetricsService(uow).health_consent(identity_id)
    return {
        "health_sync_consent": consent.model_dump(mode="json") if consent else None,
        "metrics": await MetricsService(uow).export(identity_id),
        "lab_reports": [
            {
                "id": str(r.id),
                "uploaded_at": r.created_at.isoformat(),
                "test_date": r.test_date.isoformat() if r.test_date else None,
                "content_type": r.content_type,
                "biomarker_count": r.biomarker_count,
                "lab_name": r.lab_name,
                "storage_key": r.storage_key,
            }
            for r in reports.scalars()
        ],
    }


async def _forget_documents(uow: UnitOfWork, identity_id: UUID) -> None:
    # Original lab documents in storage go once the erasure is committed.
    for key in await MetricsService(uow).lab_report_keys(identity_id):
        uow.enqueue(STORAGE_DELETE_TOPIC, {"key": key})


async def _erase(uow: UnitOfWork, identity_id: UUID) -> int:
    await _forget_documents(uow, identity_id)
    total = 0
    for row_type in (MetricRow, LabReportRow, HealthConsentRow):
        result = await uow.session.execute(delete(row_type).where(row_type.identity_id == identity_id))
        total += int(result.rowcount)  # type: ignore[attr-defined]
    return total


async def _anonymize(uow: UnitOfWork, identity_id: UUID, replacement_id: UUID) -> int:
    # Measurements are kept for aggregate statistics; notes, stored lab documents and the consent
    # record are personal.
    await _forget_documents(uow, identity_id)
    result = await uow.session.execute(
        update(MetricRow).where(MetricRow.identity_id == identity_id).values(identity_id=replacement_id, note=None)
    )
    await uow.session.execute(delete(LabReportRow).where(LabReportRow.identity_id == identity_id))
    await uow.session.execute(delete(HealthConsentRow).where(HealthConsentRow.identity_id == identity_id))
    return int(result.rowcount)  # type: ignore[attr-defined]


MANIFEST = ModuleManifest(
    name="metrics",
    router=router,
    personal_data=PersonalData(
        module="metrics",
        tables=("metrics", "lab_reports", "health_consents"),
        export=_export,
        erase=_erase,
        anonymize=_anonymize,
        order=300,
    ),
)
