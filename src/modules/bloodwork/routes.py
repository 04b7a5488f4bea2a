"""`/uploads/bloodwork`: lab reports in, biomarker series out.

The multipart `file` is read from the request stream and hashed as it arrives; past
`MAX_UPLOAD_BYTES` the upload is refused (413) without reading the rest. The type comes from the
file's first bytes (PDF, JPEG, PNG), never from the client's content type or file name. The same
file uploaded again by the same person answers the earlier result (`duplicate: true`) and changes
nothing. Reading happens off the event loop within `BLOODWORK_PARSE_TIMEOUT_SECONDS` (see
`src/services/bloodwork_parser.py`); every failure is a problem body with a stable code.

Results are stored as `biomarker_<name>` metrics with source `lab_report`, at 12:00 on the test
day in the person's time zone (so grouping by local date is stable), linked to the lab report row
that also keeps the original document's storage key. Test date: the `test_date` query parameter,
else the date printed on the report, else today (the person's local date).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import date, datetime, time
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field, ValidationError

from src.core.errors import (
    PayloadTooLarge,
    ServiceUnavailable,
    UnprocessableEntity,
    problem_schema,
)
from src.core.rate_limit import limits
from src.core.uow import UnitOfWork
from src.dependencies import CurrentIdentity, UoWDep
from src.modules.event_journal import EventType, event_journal
from src.modules.metrics import BiomarkerFlag, LabReport, Measurement, MetricSource, metrics
from src.modules.profile import OnboardingStep, profile_service
from src.services.bloodwork_parser import (
    EXTENSIONS,
    MEDIA_TYPES,
    ParsedBiomarker,
    language_model,
    read_document,
    sniff_kind,
    tesseract_program,
)
from src.services.multipart import read_file_field
from src.services.storage import Storage, StorageError, storage_of

logger = logging.getLogger("ugoki.bloodwork")

router = APIRouter()

FILE_FIELD = "file"
EARLIEST_TEST_DATE = date(1900, 1, 1)
TEST_TIME = time(12, 0)  # results are stored at noon of the test day, local time
# Reading documents is CPU- and memory-hungry: at most this many are read at once per process.
PARSE_SLOTS = 2
PARSE_SLOTS_KEY = "bloodwork_parse_slots"


# Errors ------------------------------------------------------------------------------------


class InvalidTestDate(UnprocessableEntity):
    code = "INVALID_TEST_DATE"


class StorageUnavailable(ServiceUnavailable):
    code = "STORAGE_UNAVAILABLE"


# Responses ---------------------------------------------------------------------------------


class BloodworkUploadResponse(BaseModel):
    success: bool = True
    test_date: date | None = Field(description="The test day the results are filed under")
    biomarker_count: int = Field(description="Results stored as metrics")
    biomarkers: list[ParsedBiomarker]
    message: str
    lab_report_id: uuid.UUID
    duplicate: bool = Field(default=False, description="True when this file was uploaded before: nothing changed")


class SupportedFormat(BaseModel):
    extension: str
    mime_type: str
    description: str


class SupportedFormats(BaseModel):
    formats: list[SupportedFormat]
    max_file_size_mb: int | float
    notes: list[str]


# Reading the multipart body as it streams ---------------------------------------------------


def _megabytes(size: int) -> int | float:
    megabytes = round(size / 1_048_576, 1)
    return int(megabytes) if megabytes.is_integer() else megabytes


# Helpers -----------------------------------------------------------------------------------


async def _zone_of(uow: UnitOfWork, identity_id: uuid.UUID) -> ZoneInfo:
    name = await profile_service(uow).timezone_of(identity_id)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _storage(uow: UnitOfWork) -> Storage:
    try:
        return storage_of(uow.resources)
    except StorageError:
        logger.error("file storage is not configured correctly")
        raise StorageUnavailable("File storage is not available right now; try again later.") from None


async def _discard(storage: Storage, key: str) -> None:
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


# Routes ------------------------------------------------------------------------------------

_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": [FILE_FIELD],
                    "properties": {
                        FILE_FIELD: {
                            "type": "string",
                            "format": "binary",
                            "description": "A PDF lab report, or a JPEG/PNG photo of one (type read from the file)",
                        }
                    },
                }
            }
        },
    }
}
_ERRORS: dict[int | str, dict[str, Any]] = {code: problem_schema() for code in (400, 401, 413, 415, 422, 429, 503)}


@router.post(
    "/bloodwork",
    response_model=BloodworkUploadResponse,
    summary="Upload a lab report (PDF, or a JPEG/PNG photo) and store its results",
    description=(
        "Multipart field `file`, at most `MAX_UPLOAD_BYTES` (10 MB). Results become `biomarker_<name>` metrics "
        "(names standardised: Hb/HGB/Haemoglobin → `biomarker_haemoglobin`) dated `test_date`, else the date "
        "printed on the report, else today. The same file again answers the earlier result with "
        "`duplicate: true` and changes nothing. Failures are problem bodies: `UNSUPPORTED_FILE_TYPE` (415), "
        "`PAYLOAD_TOO_LARGE` (413), `EMPTY_FILE`, `UNREADABLE_DOCUMENT`, `NO_TEXT_FOUND`, `NO_BIOMARKERS_FOUND`, "
        "`IMAGE_NOT_SUPPORTED_OFFLINE`, `PARSE_TIMEOUT`, `INVALID_TEST_DATE` (422), `LLM_UNAVAILABLE` (503)."
    ),
    responses=_ERRORS,
    openapi_extra={**limits("UPLOAD"), **_UPLOAD_BODY},
)
async def upload_bloodwork(
    request: Request,
    uow: UoWDep,
    me: CurrentIdentity,
    test_date: Annotated[
        date | None, Query(description="The day the blood was taken, when the report does not say (or says wrong)")
    ] = None,
) -> BloodworkUploadResponse:
    identity_id = me.identity_id
    settings = uow.settings
    # Nothing is written before the results are known: the read-only transactions of the sign-in
    # check and of the duplicate check end before the slow parts (receiving the file, reading it,
    # waiting for a model), so no database lock or pooled connection is held meanwhile.
    await uow.session.commit()
    uploaded = await read_file_field(
        request,
        field=FILE_FIELD,
        limit=settings.max_upload_bytes,
        too_large=PayloadTooLarge(f"The file is larger than {_megabytes(settings.max_upload_bytes):g} MB."),
    )
    data, sha256 = uploaded.data, uploaded.sha256
    kind = sniff_kind(data)

    zone = await _zone_of(uow, identity_id)
    today = uow.now().astimezone(zone).date()
    if test_date is not None and not EARLIEST_TEST_DATE <= test_date <= today:
        raise InvalidTestDate("test_date must be a day between 1900-01-01 and today.")

    metrics_service = metrics(uow)
    previous = await metrics_service.find_lab_report(identity_id, sha256)
    if previous is not None:
        return _previous_result(previous, zone)
    await uow.session.commit()

    read = await read_document(
        data,
        kind,
        model=language_model(settings, uow.resources.http()),
        time_limit=settings.bloodwork_parse_timeout_seconds,
        ocr_program=tesseract_program(),
        slots=uow.resources.singleton(PARSE_SLOTS_KEY, lambda: asyncio.Semaphore(PARSE_SLOTS)),
    )
    report = read.report
    printed_date = report.test_date if report.test_date and EARLIEST_TEST_DATE <= report.test_date <= today else None
    effective_date = test_date or printed_date or today
    taken_at = datetime.combine(effective_date, TEST_TIME, tzinfo=zone)

    storage = _storage(uow)
    key = f"lab-reports/{identity_id}/{uuid.uuid4().hex}.{EXTENSIONS[kind]}"
    try:
        await storage.put(key, data, content_type=MEDIA_TYPES[kind])
    except Exception as exc:  # any backend failure: the upload is refused, nothing is recorded
        logger.error("storing a lab report failed: %s", type(exc).__name__)
        raise StorageUnavailable("The report could not be stored right now; try again later.") from None

    try:
        lab_report, created = await metrics_service.create_lab_report(
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
        await metrics_service.set_lab_report_count(lab_report.id, len(stored))
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


@router.get(
    "/bloodwork/supported-formats",
    response_model=SupportedFormats,
    summary="File types and size accepted for lab reports (no sign-in needed)",
)
async def supported_formats(request: Request) -> SupportedFormats:
    limit = request.app.state.resources.settings.max_upload_bytes
    return SupportedFormats(
        formats=[
            SupportedFormat(extension=".pdf", mime_type="application/pdf", description="PDF lab report (recommended)"),
            SupportedFormat(extension=".jpg", mime_type="image/jpeg", description="JPEG photo of a lab report"),
            SupportedFormat(extension=".png", mime_type="image/png", description="PNG image of a lab report"),
        ],
        max_file_size_mb=_megabytes(limit),
        notes=[
            "The PDF your lab sent works best: its text is read exactly.",
            "For photos, lay the page flat in good light and make sure every value is sharp and readable.",
            "Check the results after uploading; you can correct any value from your biomarker list.",
        ],
    )
