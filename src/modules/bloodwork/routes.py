"""`/uploads/bloodwork`: lab reports in, biomarker series out (see `service.py`).

The multipart `file` is read from the request stream and hashed as it arrives; past
`MAX_UPLOAD_BYTES` the upload is refused (413) without reading the rest.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from src.adapters.multipart import UploadedFile, read_file_field, upload_body
from src.core.errors import PayloadTooLarge, problem_schema
from src.core.rate_limit import limits
from src.dependencies import CurrentIdentity, UoWDep

from .models import BloodworkUploadResponse, SupportedFormat, SupportedFormats
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
