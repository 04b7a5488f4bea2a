"""`/profile/export`, `/profile/all-data`, `/profile/anonymize`: the whole account at once, over
every module's personal-data entry (see `src/core/gdpr.py`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query, Request, Response
from fastapi.responses import StreamingResponse

from src.core.errors import ConfirmationRequired, problem_schema
from src.core.rate_limit import limits
from src.core.routing import ModuleRouter
from src.core.scopes import TokenScope, by_method
from src.dependencies import CurrentIdentity, UoWDep, WritingUoWDep

from .models import AnonymizationResult, DeletionResult
from .service import AccountData

router = ModuleRouter(prefix="/profile", tags=["profile"], token_scopes=by_method(read=TokenScope.EXPORT_READ))
# Shape of the export in the API document (each module's section holds its own data).
EXPORT_EXAMPLE: dict[str, Any] = {
    "format_version": 1,
    "identity_id": "7d7e3b8a-2f0c-4b9e-9a61-3c5d2f1e8a40",
    "exported_at": "2026-03-10T07:30:00+00:00",
    "modules": {"profile": {"profile": {"display_name": "Ada"}}, "time_keeper": []},
    "profile": {"display_name": "Ada"},
    "preferences": {"timezone": "Europe/Berlin"},
    "goals": {},
    "health": {},
    "dietary": {},
    "workout_restrictions": {},
    "social": {},
    "metrics": [],
    "workouts": [],
    "fasting_history": [],
    "achievements": [],
}
_ERRORS: dict[int | str, dict[str, Any]] = {code: problem_schema() for code in (400, 401, 404, 409, 422)}


@router.get(
    "/export",
    summary="Everything held about you, from every module (JSON, or ?format=zip)",
    description=(
        "`modules` holds each module's data. The reference's top-level keys are kept: the profile sections "
        "(`profile`, `preferences`, `goals`, `health`, `dietary`, `workout_restrictions`, `social`) and the "
        "lists `metrics`, `workouts` (workout sessions), `fasting_history` (time windows) and `achievements` "
        "(unlocked), filled with the real data. The ZIP holds `export.json` (format, identity, time) and one "
        "`<module>.json` per module. Both are sent in chunks while they are read, without a Content-Length."
    ),
    responses={200: {"content": {"application/json": {"example": EXPORT_EXAMPLE}, "application/zip": {}}}},
    openapi_extra=limits("GDPR"),
)
async def export(
    request: Request,
    uow: WritingUoWDep,
    me: CurrentIdentity,
    format: Annotated[Literal["json", "zip"], Query()] = "json",
) -> Response:
    account = AccountData(uow)
    if format == "zip":
        archive = await account.export_zip_stream(me.identity_id, request.app.state.sessions)
        return StreamingResponse(
            archive,
            media_type="application/zip",
            headers={"Content-Disposition": 'attachment; filename="ugoki-export.zip"'},
        )
    body = await account.export_stream(me.identity_id, request.app.state.sessions)
    return StreamingResponse(body, media_type="application/json")


@router.delete(
    "/all-data",
    response_model=DeletionResult,
    summary="Erase the account and everything in it (needs ?confirm=true)",
    description=(
        "Deletes every row of every module and stored files, then the identity; tokens stop working. Without "
        "`confirm=true` nothing is deleted and the answer is 400 `CONFIRMATION_REQUIRED` (as the reference)."
    ),
    responses=_ERRORS,
    openapi_extra=limits("GDPR"),
)
async def delete_all(uow: UoWDep, me: CurrentIdentity, confirm: bool = False) -> DeletionResult:
    if not confirm:
        raise ConfirmationRequired("Add ?confirm=true to erase the account and all its data")
    return await AccountData(uow).erase(me.identity_id)


@router.post(
    "/anonymize",
    response_model=AnonymizationResult,
    summary="End the account, keeping only de-identified activity",
    description=(
        "Personal fields and sections are deleted; activity kept for aggregate statistics (fasts, XP, "
        "events…) is moved to a random id that cannot be linked back. The account ends: tokens stop working."
    ),
    openapi_extra=limits("GDPR"),
)
async def anonymize(uow: UoWDep, me: CurrentIdentity) -> AnonymizationResult:
    return await AccountData(uow).anonymize(me.identity_id)
