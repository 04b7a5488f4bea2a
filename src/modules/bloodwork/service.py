"""Bloodwork uploads: lab reports in, biomarker series out.

The type comes from the file's first bytes (PDF, JPEG, PNG), never from the client's content type
or file name. The same file uploaded again by the same person answers the earlier result
(`duplicate: true`) and changes nothing. Reading happens off the event loop within
`BLOODWORK_PARSE_TIMEOUT_SECONDS` (see `parser.py`); every failure is a problem body with a
stable code.

Results are stored as `biomarker_<name>` metrics with source `lab_report`, at 12:00 on the test
day in the person's time zone (so grouping by local date is stable), linked to the lab report row
that also keeps the original document's storage key. Test date: the one the person gives, else the
date printed on the report, else today (the person's local date).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from src.adapters.documents import EXTENSIONS, MEDIA_TYPES, tesseract_program
from src.adapters.multipart import UploadedFile
from src.adapters.storage import StorageUnavailable, usable_storage
from src.core.ports import ObjectStorage
from src.core.uow import UnitOfWork
from src.modules.event_journal import EventType, event_journal
from src.modules.metrics import BiomarkerFlag, Measurement, MetricSource, metrics
from src.modules.profile import OnboardingStep, profile_service

from .errors import InvalidTestDate
from .models import BloodworkUploadResponse, LabReport, ParsedBiomarker
from .parser import language_model, read_document, sniff_kind
from .reports import LabReports

logger = logging.getLogger("ugoki.bloodwork")

EARLIEST_TEST_DATE = date(1900, 1, 1)
TEST_TIME = time(12, 0)  # results are stored at noon of the test day, local time


def megabytes(size: int) -> int | float:
    value = round(size / 1_048_576, 1)
    return int(value) if value.is_integer() else value


async def _discard(storage: ObjectStorage, key: str) -> None:
    try:
        await storage.delete(key)
    except Exception as exc:  # best effort: an orphaned private object is harmless
        logger.warning("could not delete an unused lab report object: %s", type(exc).__name__)


def _previous_result(report: LabReport, zone: ZoneInfo) -> BloodworkUploadResponse:
    biomarkers: list[ParsedBiomarker] = []
    for item in report.parsed:
        try:
            biomarkers.append(ParsedBiomarker.model_validate(item))
        except ValidationError:
            continue
    return BloodworkUploadResponse(
        test_date=report.test_date.astimezone(zone).date() if report.test_date else None,
        biomarker_count=report.biomarker_count,
        biomarkers=biomarkers,
        message="This report was uploaded before; nothing was changed.",
        lab_report_id=report.id,
        duplicate=True,
    )


def _measurement(biomarker: ParsedBiomarker, at: datetime) -> Measurement | None:
    if biomarker.value is None:
        return None
    return Measurement(
        metric_type=biomarker.metric_type,
        value=biomarker.value,
        timestamp=at,
        unit=biomarker.unit,
        value_text=biomarker.value_text,
        reference_low=biomarker.reference_low,
        reference_high=biomarker.reference_high,
        flag=BiomarkerFlag(biomarker.flag) if biomarker.flag else None,
    )


class BloodworkService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    async def upload(
        self, identity_id: uuid.UUID, receive: Callable[[], Awaitable[UploadedFile]], test_date: date | None
    ) -> BloodworkUploadResponse:
        """Receive the file (`receive` reads it from the request), read it, store the original and
        its results. Nothing is written before the results are known: the read-only transactions
        of the sign-in check and of the duplicate check end before the slow parts (receiving the
        file, reading it, waiting for a model), so no database lock or pooled connection is held
        meanwhile."""
        uow = self.uow
        await uow.release()
        uploaded = await receive()
        data, sha256 = uploaded.data, uploaded.sha256
        kind = sniff_kind(data)

        zone = await profile_service(uow).zone_of(identity_id)
        today = uow.now().astimezone(zone).date()
        if test_date is not None and not EARLIEST_TEST_DATE <= test_date <= today:
            raise InvalidTestDate("test_date must be a day between 1900-01-01 and today.")

        metrics_service = metrics(uow)
        reports = LabReports(uow)
        previous = await reports.find_lab_report(identity_id, sha256)
        if previous is not None:
            return _previous_result(previous, zone)
        await uow.release()

        read = await read_document(
            data,
            kind,
            model=language_model(uow.settings, uow.resources.http()),
            time_limit=uow.settings.bloodwork_parse_timeout_seconds,
            ocr_program=tesseract_program(),
            slots=uow.resources.document_slots,
            memory_bytes=uow.settings.document_reader_memory_mb * 1_048_576,
        )
        report = read.report
        printed = report.test_date if report.test_date and EARLIEST_TEST_DATE <= report.test_date <= today else None
        effective_date = test_date or printed or today
        taken_at = datetime.combine(effective_date, TEST_TIME, tzinfo=zone)

        storage = usable_storage(uow.resources)
        key = f"lab-reports/{identity_id}/{uuid.uuid4().hex}.{EXTENSIONS[kind]}"
        try:
            await storage.put(key, data, content_type=MEDIA_TYPES[kind])
        except Exception as exc:  # any backend failure: the upload is refused, nothing is recorded
            logger.error("storing a lab report failed: %s", type(exc).__name__)
            raise StorageUnavailable("The report could not be stored right now; try again later.") from None

        try:
            lab_report, created = await reports.create_lab_report(
                identity_id,
                sha256=sha256,
                storage_key=key,
                content_type=MEDIA_TYPES[kind],
                size_bytes=len(data),
                test_date=taken_at,
                parser=read.method,
                lab_name=report.lab_name,
                parsed=[biomarker.model_dump(mode="json") for biomarker in report.biomarkers],
            )
            if not created:  # the same file, uploaded at the same moment by another request
                await _discard(storage, key)
                return _previous_result(lab_report, zone)
            measurements = [m for b in report.biomarkers if (m := _measurement(b, taken_at)) is not None]
            stored = await metrics_service.store(
                identity_id,
                measurements,
                source=MetricSource.LAB_REPORT,
                lab_report_id=lab_report.id,
                record_events=False,
            )
            await reports.set_lab_report_count(lab_report.id, len(stored))
            await profile_service(uow).mark_onboarding(identity_id, OnboardingStep.BLOODWORK_UPLOADED)
            await event_journal(uow).record(
                identity_id,
                EventType.BIOMARKER_UPLOADED,
                related_id=lab_report.id,
                related_type="lab_report",
                metadata={"count": len(stored), "lab_report_id": str(lab_report.id)},
            )
        except Exception:
            await _discard(storage, key)
            raise

        logger.info("lab report imported", extra={"biomarkers": len(stored), "method": read.method})
        count = len(stored)
        return BloodworkUploadResponse(
            test_date=effective_date,
            biomarker_count=count,
            biomarkers=report.biomarkers,
            message=f"Successfully parsed {count} biomarker{'' if count == 1 else 's'}.",
            lab_report_id=lab_report.id,
            duplicate=False,
        )
