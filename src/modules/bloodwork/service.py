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

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from src.adapters.documents import EXTENSIONS, MEDIA_TYPES, tesseract_program
from src.adapters.multipart import UploadedFile
from src.adapters.storage import StorageUnavailable, usable_storage
from src.core.ports import ObjectStorage
from src.core.uow import UnitOfWork
from src.modules.event_journal import EventType, event_journal
from src.modules.metrics import (
    BIOMARKER_PREFIX,
    BiomarkerFlag,
    Measurement,
    MetricSource,
    diagnostic_report,
    fhir_bundle,
    fhir_text_observation,
    lab_observation,
    metrics,
)
from src.modules.profile import OnboardingStep, profile_service

from .errors import InvalidTestDate
from .fhir import read_fhir
from .models import (
    BloodworkUploadResponse,
    FhirImportedReport,
    FhirImportResponse,
    LabReport,
    LabReportSummary,
    ParsedBiomarker,
)
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


def parsed_results(report: LabReport) -> list[ParsedBiomarker]:
    """The results as read from the report (text results included)."""
    biomarkers: list[ParsedBiomarker] = []
    for item in report.parsed:
        try:
            biomarkers.append(ParsedBiomarker.model_validate(item))
        except ValidationError:
            continue
    return biomarkers


def report_day(report: LabReport, zone: ZoneInfo) -> date | None:
    """The local test day as filed (older rows without one: the instant in today's zone)."""
    if report.test_day is not None:
        return report.test_day
    return report.test_date.astimezone(zone).date() if report.test_date else None


def summary_of(report: LabReport, zone: ZoneInfo) -> LabReportSummary:
    return LabReportSummary(
        id=report.id,
        test_date=report_day(report, zone),
        date_source=report.date_source,
        source=report.source,
        lab_name=report.lab_name,
        content_type=report.content_type,
        biomarker_count=report.biomarker_count,
        uploaded_at=report.created_at,
        results=parsed_results(report),
    )


def _previous_result(report: LabReport, zone: ZoneInfo) -> BloodworkUploadResponse:
    biomarkers = parsed_results(report)
    return BloodworkUploadResponse(
        test_date=report_day(report, zone),
        biomarker_count=report.biomarker_count,
        biomarkers=biomarkers,
        message="This report was uploaded before; nothing was changed.",
        lab_report_id=report.id,
        duplicate=True,
    )


def _measurement(biomarker: ParsedBiomarker, at: datetime, day: date) -> Measurement | None:
    if biomarker.value is None:
        return None  # a text result ("Negative"): kept with the report, not a point of a series
    return Measurement(
        metric_type=biomarker.metric_type,
        value=biomarker.value,
        timestamp=at,
        day=day,
        unit=biomarker.unit,
        value_text=biomarker.value_text,
        reference_low=biomarker.reference_low,
        reference_high=biomarker.reference_high,
        flag=BiomarkerFlag(biomarker.flag) if biomarker.flag else None,
    )


async def _file_results(
    uow: UnitOfWork,
    reports: LabReports,
    identity_id: uuid.UUID,
    lab_report_id: uuid.UUID,
    biomarkers: Sequence[ParsedBiomarker],
    *,
    source: MetricSource,
    at: datetime,
    day: date,
) -> tuple[int, int]:
    """A new lab report's numeric results stored as points of their series at `at` on `day` (text
    results stay with the report only), and its result count filed on the report. Answers
    (points stored, results in all)."""
    measurements = [m for b in biomarkers if (m := _measurement(b, at, day)) is not None]
    stored = await metrics(uow).store(
        identity_id, measurements, source=source, lab_report_id=lab_report_id, record_events=False
    )
    count = len(stored) + sum(1 for b in biomarkers if b.value is None)
    await reports.set_lab_report_count(lab_report_id, count)
    return len(stored), count


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

        reports = LabReports(uow)
        previous = await reports.find_lab_report(identity_id, sha256)
        if previous is not None:
            if (
                test_date is not None
                and previous.date_source == "upload_day"
                and test_date != report_day(previous, zone)
            ):
                # The same file, first filed under its upload day for want of a date, now with the
                # day it was taken: the undated import moves to that day. (A printed or given date
                # is corrected with PATCH on the report.)
                moved = await self.redate(identity_id, previous.id, test_date)
                return _previous_result(moved, zone).model_copy(
                    update={
                        "duplicate": False,
                        "redated": True,
                        "message": f"This report was uploaded before; its results now stand on {test_date}.",
                    }
                )
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
        date_source = "given" if test_date else "printed" if printed else "upload_day"
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
                test_day=effective_date,
                date_source=date_source,
                parser=read.method,
                lab_name=report.lab_name,
                parsed=[biomarker.model_dump(mode="json") for biomarker in report.biomarkers],
            )
            if not created:  # the same file, uploaded at the same moment by another request
                await _discard(storage, key)
                return _previous_result(lab_report, zone)
            points, count = await _file_results(
                uow,
                reports,
                identity_id,
                lab_report.id,
                report.biomarkers,
                source=MetricSource.LAB_REPORT,
                at=taken_at,
                day=effective_date,
            )
            await profile_service(uow).mark_onboarding(identity_id, OnboardingStep.BLOODWORK_UPLOADED)
            await event_journal(uow).record(
                identity_id,
                EventType.BIOMARKER_UPLOADED,
                related_id=lab_report.id,
                related_type="lab_report",
                metadata={"count": points, "lab_report_id": str(lab_report.id)},
            )
        except Exception:
            await _discard(storage, key)
            raise

        logger.info("lab report imported", extra={"biomarkers": points, "method": read.method})
        return BloodworkUploadResponse(
            test_date=effective_date,
            biomarker_count=count,
            biomarkers=report.biomarkers,
            message=f"Successfully parsed {count} biomarker{'' if count == 1 else 's'}.",
            lab_report_id=lab_report.id,
            duplicate=False,
        )

    async def redate(self, identity_id: uuid.UUID, report_id: uuid.UUID, test_date: date) -> LabReport:
        """Move a report and its results to another test day (the person's correction)."""
        uow = self.uow
        zone = await profile_service(uow).zone_of(identity_id)
        today = uow.now().astimezone(zone).date()
        if not EARLIEST_TEST_DATE <= test_date <= today:
            raise InvalidTestDate("test_date must be a day between 1900-01-01 and today.")
        reports = LabReports(uow)
        report = await reports.get_lab_report(identity_id, report_id, lock=True)
        taken_at = datetime.combine(test_date, TEST_TIME, tzinfo=zone)
        await metrics(uow).move_lab_report(identity_id, report.id, timestamp=taken_at, day=test_date)
        await reports.set_test_date(report.id, taken_at, test_date, "given")
        return await reports.get_lab_report(identity_id, report_id)

    async def report(self, identity_id: uuid.UUID, report_id: uuid.UUID) -> LabReportSummary:
        zone = await profile_service(self.uow).zone_of(identity_id)
        return summary_of(await LabReports(self.uow).get_lab_report(identity_id, report_id), zone)

    async def list_reports(self, identity_id: uuid.UUID, *, limit: int) -> list[LabReportSummary]:
        zone = await profile_service(self.uow).zone_of(identity_id)
        return [summary_of(r, zone) for r in await LabReports(self.uow).list_lab_reports(identity_id, limit=limit)]

    async def fhir_report(self, identity_id: uuid.UUID, report_id: uuid.UUID) -> dict[str, Any]:
        """One lab report as a FHIR Bundle: an Observation per result (text results as
        valueString) and a DiagnosticReport grouping them."""
        uow = self.uow
        zone = await profile_service(uow).zone_of(identity_id)
        report = await LabReports(uow).get_lab_report(identity_id, report_id)
        day = report_day(report, zone) or uow.now().astimezone(zone).date()
        effective = datetime.combine(day, TEST_TIME, tzinfo=zone)
        parsed = parsed_results(report)
        names = {b.metric_type: b.raw_name for b in parsed}
        resources: list[dict[str, Any]] = []
        for metric in await metrics(uow).lab_report_results(identity_id, report.id):
            resource = lab_observation(
                metric, local_time=metric.timestamp.astimezone(zone), name=names.get(metric.metric_type)
            )
            if resource is not None:
                resources.append(resource)
        for biomarker in parsed:
            if biomarker.value is None:
                resources.append(
                    fhir_text_observation(
                        uuid.uuid5(report.id, biomarker.metric_type),
                        biomarker.raw_name,
                        biomarker.metric_type.removeprefix(BIOMARKER_PREFIX),
                        biomarker.value_text,
                        effective,
                        biomarker.flag,
                    )
                )
        resources.append(
            diagnostic_report(
                report.id,
                effective=effective,
                issued=report.created_at,
                result_ids=[r["id"] for r in resources],
                lab_name=report.lab_name,
            )
        )
        return fhir_bundle(resources, bundle_id=uuid.uuid5(report.id, "bundle"), timestamp=uow.now())

    async def import_fhir(self, identity_id: uuid.UUID, data: bytes) -> FhirImportResponse:
        """Lab results from a FHIR Bundle or Observation: one lab report per test day, stored like
        an upload's results (same names, unit conversion and duplicate rule: the same results
        again change nothing), source `fhir_import`."""
        uow = self.uow
        read = await asyncio.to_thread(read_fhir, data)  # up to 2 MB scanned and parsed: off the event loop
        zone = await profile_service(uow).zone_of(identity_id)
        today = uow.now().astimezone(zone).date()
        by_day: dict[date, dict[str, ParsedBiomarker]] = {}
        for result in read.results:
            day = result.day or today
            if not EARLIEST_TEST_DATE <= day <= today:
                raise InvalidTestDate("Every Observation's effectiveDateTime must be between 1900-01-01 and today.")
            by_day.setdefault(day, {}).setdefault(result.biomarker.metric_type, result.biomarker)
        reports = LabReports(uow)
        imported: list[FhirImportedReport] = []
        total = 0
        for day, found in sorted(by_day.items()):
            biomarkers = list(found.values())
            parsed = [b.model_dump(mode="json") for b in biomarkers]
            digest = hashlib.sha256(
                json.dumps({"day": day.isoformat(), "results": parsed}, sort_keys=True).encode()
            ).hexdigest()
            taken_at = datetime.combine(day, TEST_TIME, tzinfo=zone)
            lab_report, created = await reports.create_lab_report(
                identity_id,
                sha256=digest,
                storage_key=None,
                content_type="application/fhir+json",
                size_bytes=len(data),
                test_date=taken_at,
                test_day=day,
                date_source="printed",
                source="fhir_import",
                parser="fhir",
                lab_name=None,
                parsed=parsed,
            )
            if not created:
                imported.append(
                    FhirImportedReport(
                        lab_report_id=lab_report.id,
                        test_date=day,
                        biomarker_count=lab_report.biomarker_count,
                        duplicate=True,
                    )
                )
                continue
            _, count = await _file_results(
                uow,
                reports,
                identity_id,
                lab_report.id,
                biomarkers,
                source=MetricSource.FHIR_IMPORT,
                at=taken_at,
                day=day,
            )
            await event_journal(uow).record(
                identity_id,
                EventType.BIOMARKER_UPLOADED,
                related_id=lab_report.id,
                related_type="lab_report",
                metadata={"count": count, "lab_report_id": str(lab_report.id), "source": "fhir_import"},
            )
            total += count
            imported.append(
                FhirImportedReport(lab_report_id=lab_report.id, test_date=day, biomarker_count=count, duplicate=False)
            )
        if total:
            await profile_service(uow).mark_onboarding(identity_id, OnboardingStep.BLOODWORK_UPLOADED)
        return FhirImportResponse(reports=imported, biomarker_count=total, skipped=read.skipped)
