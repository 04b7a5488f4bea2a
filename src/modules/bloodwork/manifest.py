from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import delete, select

from src.adapters.storage import DELETE_TOPIC as STORAGE_DELETE_TOPIC
from src.core.gdpr import PersonalData
from src.core.modules import ModuleManifest
from src.core.persistence import rowcount
from src.core.routing import ModuleRouter
from src.core.scopes import TokenScope, by_method
from src.core.uow import UnitOfWork

from .orm import LabReportRow
from .reports import LabReports
from .routes import router as bloodwork_router

router = ModuleRouter(prefix="/uploads", tags=["uploads"], token_scopes=by_method(read=TokenScope.LABS_READ))
router.include_router(bloodwork_router)


async def _export(uow: UnitOfWork, identity_id: UUID) -> dict[str, Any]:
    reports = await uow.session.execute(select(LabReportRow).where(LabReportRow.identity_id == identity_id))
    return {
        "lab_reports": [
            {
                "id": str(r.id),
                "uploaded_at": r.created_at.isoformat(),
                "test_date": r.test_date.isoformat() if r.test_date else None,
                "test_day": r.test_day.isoformat() if r.test_day else None,
                "date_source": r.date_source,
                "source": r.source,
                "content_type": r.content_type,
                "biomarker_count": r.biomarker_count,
                "lab_name": r.lab_name,
                "storage_key": r.storage_key,
                "results": r.parsed,  # as read, text results ("Negative") included
            }
            for r in reports.scalars()
        ],
    }


async def _erase(uow: UnitOfWork, identity_id: UUID) -> int:
    # The original documents in storage go once the erasure is committed; the results read from
    # them are metrics (erased, or kept without their link to the report when anonymised).
    for key in await LabReports(uow).lab_report_keys(identity_id):
        uow.enqueue(STORAGE_DELETE_TOPIC, {"key": key})
    return rowcount(await uow.session.execute(delete(LabReportRow).where(LabReportRow.identity_id == identity_id)))


MANIFEST = ModuleManifest(
    name="bloodwork",
    router=router,
    personal_data=PersonalData(
        module="bloodwork",
        tables=("lab_reports",),
        export=_export,
        erase=_erase,
        anonymize=None,  # the documents are personal: anonymisation deletes them
        order=290,
    ),
)
