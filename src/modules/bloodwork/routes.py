"""`/uploads/bloodwork`: lab reports in, biomarker series out (see `service.py`).

The multipart `file` is read from the request stream and hashed as it arrives; past
`MAX_UPLOAD_BYTES` the upload is refused (413) without reading the rest.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from src.adapters.multipart import UploadedFile, read_file_field, upload_body
from src.core.errors import PayloadTooLarge, problem_schema
from src.core.rate_limit import limits
from src.dependencies import CurrentIdentity, UoWDep
from src.modules.metrics import FHIR_BUNDLE_EXAMPLE

from .fhir import check_size
from .models import (
    BloodworkUploadResponse,
    FhirImportResponse,
    LabReportSummary,
    SupportedFormat,
    SupportedFormats,
    UpdateLabReportRequest,
)
from .service import BloodworkService, megabytes

router = APIRouter()

FILE_FIELD = "file"
_UPLOAD_BODY = upload_body(FILE_FIELD, "A PDF lab report, or a JPEG/PNG photo of one (type read from the file)")
_ERRORS: dict[int | str, dict[str, Any]] = {code: problem_schema() for code in (400, 401, 413, 415, 422, 429, 503)}


@router.post(
    "/bloodwork",
    response_model=BloodworkUploadResponse,
    summary="Upload a lab report (PDF, or a JPEG/PNG photo) and store its results",
    description=(
        "Multipart field `file`, at most `MAX_UPLOAD_BYTES` (10 MB). Results become `biomarker_<name>` metrics "
        "(names standardised: Hb/HGB/Haemoglobin → `biomarker_haemoglobin`; each analyte stored in one UCUM unit, "
        "glucose 95 mg/dL as 5.27 mmol/L, with the printed value and unit kept as `original_value`/`original_unit`) "
        "dated `test_date`, else the date printed on the report (day first, or month first on American reports; "
        "'November 28, 2026' is read too), else today. Results printed as words ('Negative', 'No growth') are kept "
        "as text results. The same file again answers the earlier result with `duplicate: true` and changes "
        "nothing, except that an import filed under its upload day (no date given or printed) moves to a "
        "`test_date` sent with it (`redated: true`); other dates are corrected with PATCH on the report. "
        "Failures are problem bodies: `UNSUPPORTED_FILE_TYPE` (415), "
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
    limit = uow.settings.max_upload_bytes

    async def receive() -> UploadedFile:
        too_large = PayloadTooLarge(f"The file is larger than {megabytes(limit):g} MB.")
        return await read_file_field(request, field=FILE_FIELD, limit=limit, too_large=too_large)

    return await BloodworkService(uow).upload(me.identity_id, receive, test_date)


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
        max_file_size_mb=megabytes(limit),
        notes=[
            "The PDF your lab sent works best: its text is read exactly.",
            "For photos, lay the page flat in good light and make sure every value is sharp and readable.",
            "Check the results after uploading; you can correct any value from your biomarker list.",
        ],
    )


@router.get(
    "/bloodwork",
    response_model=list[LabReportSummary],
    summary="Your lab reports, newest test day first, with their results (text results too)",
    responses=_ERRORS,
)
async def list_reports(
    uow: UoWDep, me: CurrentIdentity, limit: Annotated[int, Query(ge=1, le=100)] = 20
) -> list[LabReportSummary]:
    return await BloodworkService(uow).list_reports(me.identity_id, limit=limit)


@router.post(
    "/bloodwork/fhir",
    response_model=FhirImportResponse,
    summary="Import lab results from a FHIR R4 Bundle or Observation",
    description=(
        "Body: a FHIR `Bundle` (any type) or a single `Observation` as JSON (application/fhir+json or "
        "application/json), at most 2 MB, 1000 entries and 24 levels of nesting. Each lab Observation's analyte "
        "comes from its LOINC code (or its name, standardised like an upload), its unit is converted to the "
        "series' UCUM unit, `valueString` results are kept as text results. One lab report (source `fhir_import`) "
        "per test day (the date in `effectiveDateTime`); the same results again are `duplicate: true` and change "
        "nothing. Vital-sign Observations and other resources are skipped. Problems: `PAYLOAD_TOO_LARGE` (413), "
        "`INVALID_FHIR`, `FHIR_NESTING_TOO_DEEP`, `TOO_MANY_FHIR_ENTRIES`, `NO_LAB_RESULTS_IN_FHIR`, "
        "`INVALID_TEST_DATE`, `INVALID_METRIC` (422)."
    ),
    responses=_ERRORS,
    openapi_extra={
        **limits("UPLOAD"),
        "requestBody": {
            "required": True,
            "content": {
                "application/fhir+json": {"schema": {"type": "object"}, "example": FHIR_BUNDLE_EXAMPLE},
                "application/json": {"schema": {"type": "object"}, "example": FHIR_BUNDLE_EXAMPLE},
            },
        },
    },
)
async def import_fhir(request: Request, uow: UoWDep, me: CurrentIdentity) -> FhirImportResponse:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit():
        check_size(int(declared))
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        check_size(size)
        chunks.append(chunk)
    return await BloodworkService(uow).import_fhir(me.identity_id, b"".join(chunks))


@router.get(
    "/bloodwork/{report_id}/fhir",
    summary="One lab report as a FHIR R4 Bundle (collection)",
    description=(
        "An `Observation` per result (LOINC code, UCUM unit, `referenceRange`, `interpretation`, "
        "`effectiveDateTime`; text results as `valueString`) and a `DiagnosticReport` grouping them. "
        "Someone else's report: 404 `LAB_REPORT_NOT_FOUND`."
    ),
    responses={
        200: {"content": {"application/json": {"example": FHIR_BUNDLE_EXAMPLE}}},
        401: problem_schema(),
        404: problem_schema(),
        422: problem_schema(),
    },
)
async def export_report_fhir(uow: UoWDep, me: CurrentIdentity, report_id: UUID) -> JSONResponse:
    body = await BloodworkService(uow).fhir_report(me.identity_id, report_id)
    return JSONResponse(body, media_type="application/fhir+json")


@router.get(
    "/bloodwork/{report_id}",
    response_model=LabReportSummary,
    summary="One of your lab reports with its results as read (text results such as 'Negative' included)",
    description="Someone else's report, or one that does not exist: 404 `LAB_REPORT_NOT_FOUND`.",
    responses=_ERRORS | {404: problem_schema()},
)
async def get_report(uow: UoWDep, me: CurrentIdentity, report_id: UUID) -> LabReportSummary:
    return await BloodworkService(uow).report(me.identity_id, report_id)


@router.patch(
    "/bloodwork/{report_id}",
    response_model=LabReportSummary,
    summary="Correct a lab report's test date; its results move to that day",
    description=(
        "The results keep their values; their series show them on the new day. A day in the future or before "
        "1900 is 422 `INVALID_TEST_DATE`; when you already have results of the same tests on that day the answer "
        "is 409 `MEASUREMENT_CONFLICT` and nothing moves. Someone else's report: 404 `LAB_REPORT_NOT_FOUND`."
    ),
    responses=_ERRORS | {404: problem_schema(), 409: problem_schema()},
)
async def update_report(
    uow: UoWDep, me: CurrentIdentity, report_id: UUID, body: UpdateLabReportRequest
) -> LabReportSummary:
    service = BloodworkService(uow)
    await service.redate(me.identity_id, report_id, body.test_date)
    return await service.report(me.identity_id, report_id)
