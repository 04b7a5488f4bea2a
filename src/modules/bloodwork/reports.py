"""The lab report rows: one per uploaded document and person (its hash: the same file is never
imported twice), where the original is stored, and what was found in it."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select

from src.core.persistence import insert_ignore
from src.core.uow import UnitOfWork

from .errors import LabReportNotFound
from .models import LabReport
from .orm import LabReportRow


class LabReports:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    async def find_lab_report(self, identity_id: uuid.UUID, sha256: str) -> LabReport | None:
        row = (
            await self.session.execute(
                select(LabReportRow).where(LabReportRow.identity_id == identity_id, LabReportRow.sha256 == sha256)
            )
        ).scalar_one_or_none()
        return LabReport.model_validate(row, from_attributes=True) if row else None

    async def create_lab_report(
        self,
        identity_id: uuid.UUID,
        *,
        sha256: str,
        storage_key: str | None,
        content_type: str,
        size_bytes: int,
        test_date: datetime | None,
        test_day: date | None = None,
        date_source: str | None = None,
        source: str = "upload",
        parser: str,
        lab_name: str | None,
        parsed: list[dict[str, object]],
    ) -> tuple[LabReport, bool]:
        created = await insert_ignore(
            self.session,
            LabReportRow,
            {
                "id": uuid.uuid4(),
                "identity_id": identity_id,
                "sha256": sha256,
                "storage_key": storage_key,
                "content_type": content_type,
                "size_bytes": size_bytes,
                "test_date": test_date,
                "test_day": test_day,
                "date_source": date_source,
                "source": source,
                "parser": parser,
                "biomarker_count": 0,
                "lab_name": lab_name,
                "parsed": parsed,
                "created_at": self.uow.now(),
            },
        )
        report = await self.find_lab_report(identity_id, sha256)
        assert report is not None  # noqa: S101 - inserted or already there
        return report, created

    async def get_lab_report(self, identity_id: uuid.UUID, report_id: uuid.UUID, *, lock: bool = False) -> LabReport:
        query = select(LabReportRow).where(LabReportRow.id == report_id, LabReportRow.identity_id == identity_id)
        if lock:
            query = query.with_for_update()
        row = (await self.session.execute(query)).scalar_one_or_none()
        if row is None:
            raise LabReportNotFound("Lab report not found")
        return LabReport.model_validate(row, from_attributes=True)

    async def list_lab_reports(self, identity_id: uuid.UUID, *, limit: int) -> list[LabReport]:
        rows = await self.session.execute(
            select(LabReportRow)
            .where(LabReportRow.identity_id == identity_id)
            .order_by(LabReportRow.test_date.desc(), LabReportRow.id)
            .limit(limit)
        )
        return [LabReport.model_validate(row, from_attributes=True) for row in rows.scalars()]

    async def set_test_date(self, report_id: uuid.UUID, test_date: datetime, test_day: date, date_source: str) -> None:
        row = await self.session.get(LabReportRow, report_id)
        if row is not None:
            row.test_date, row.test_day, row.date_source = test_date, test_day, date_source
            await self.session.flush()

    async def set_lab_report_count(self, report_id: uuid.UUID, biomarker_count: int) -> None:
        row = await self.session.get(LabReportRow, report_id)
        if row is not None:
            row.biomarker_count = biomarker_count
            await self.session.flush()

    async def lab_report_keys(self, identity_id: uuid.UUID) -> list[str]:
        rows = await self.session.execute(
            select(LabReportRow.storage_key).where(
                LabReportRow.identity_id == identity_id, LabReportRow.storage_key.is_not(None)
            )
        )
        return [key for key in rows.scalars() if key]
