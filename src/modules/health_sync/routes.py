"""`/health-sync`: device health data (Apple HealthKit, Android Health Connect, Apple Health
exports), consent to it, and the health context (see `service.py`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import File, UploadFile, status

from src.core.errors import problem_schema
from src.core.rate_limit import limits
from src.core.routing import ModuleRouter
from src.dependencies import CurrentIdentity, UoWDep, WritingUoWDep

from .models import (
    AppleHealthImport,
    DeletedHealthData,
    HealthConsentRequest,
    HealthConsentView,
    HealthContext,
    HealthSyncRequest,
    HealthSyncResult,
    HealthSyncStatus,
)
from .service import HealthSyncService

router = ModuleRouter(prefix="/health-sync", tags=["health sync"])

_ERRORS: dict[int | str, dict[str, Any]] = {code: problem_schema() for code in (401, 422)}
_SYNC_ERRORS: dict[int | str, dict[str, Any]] = {**_ERRORS, 403: problem_schema()}


@router.post(
    "",
    response_model=HealthSyncResult,
    status_code=status.HTTP_201_CREATED,
    summary="Store readings from Apple HealthKit / Health Connect (repeating a sync changes nothing)",
    description=(
        "Values are checked against plausible ranges (resting HR 25–220 bpm, HRV 1–300 ms, sleep 0–24 h, steps "
        "0–100 000, active calories 0–20 000 kcal, weight 20–400 kg, body fat 2–75 %); one implausible value "
        "refuses the whole sync with a 422 naming the field, and nothing is stored. Instants need a UTC offset "
        "and may not be more than 5 minutes ahead. Steps, active calories and sleep are daily totals, stored "
        "once per day of your time zone (sleep on the day you woke up). A weight reading counts as a weigh-in "
        "(XP once a day). The first sync records your consent to device sync (basis `first_sync`); after you "
        "withdraw it (PUT /health-sync/consent) a sync answers 403 HEALTH_CONSENT_WITHDRAWN and stores nothing."
    ),
    responses=_SYNC_ERRORS,
)
async def sync(uow: UoWDep, me: CurrentIdentity, body: HealthSyncRequest) -> HealthSyncResult:
    return await HealthSyncService(uow).sync(me.identity_id, body)


@router.get("/consent", response_model=HealthConsentView, summary="Your consent to device health sync")
async def get_consent(uow: UoWDep, me: CurrentIdentity) -> HealthConsentView:
    return await HealthSyncService(uow).consent(me.identity_id)


@router.put(
    "/consent",
    response_model=HealthConsentView,
    summary="Allow or stop device health sync",
    description=(
        "Records your decision (journalled as health_consent_granted / health_consent_withdrawn). While "
        "consent is withdrawn, syncs and imports answer 403 HEALTH_CONSENT_WITHDRAWN; data already stored stays "
        "until you delete it with DELETE /health-sync/data. Repeating the same decision changes nothing."
    ),
    responses=_ERRORS,
)
async def put_consent(uow: UoWDep, me: CurrentIdentity, body: HealthConsentRequest) -> HealthConsentView:
    return await HealthSyncService(uow).set_consent(me.identity_id, body)


@router.delete(
    "/data",
    response_model=DeletedHealthData,
    summary="Delete every device health reading (and the recovery scores computed from them)",
    description=(
        "Needs ?confirm=true. Deletes values stored from devices and Apple Health imports (resting heart rate, "
        "HRV, sleep, steps, active calories, weight, body fat) and the daily recovery scores; values you entered "
        "yourself and lab results stay. XP already earned stays. Your consent decision is not changed."
    ),
    responses=_ERRORS,
)
async def delete_device_data(uow: UoWDep, me: CurrentIdentity, confirm: bool = False) -> DeletedHealthData:
    return await HealthSyncService(uow).delete_device_data(me.identity_id, confirm=confirm)


@router.get("/status", response_model=HealthSyncStatus, summary="Whether a device is sending data", responses=_ERRORS)
async def sync_status(uow: WritingUoWDep, me: CurrentIdentity) -> HealthSyncStatus:
    return await HealthSyncService(uow).status(me.identity_id)


@router.get(
    "/context",
    response_model=HealthContext,
    summary="Latest health values, insights and today's recovery score",
    description=(
        "Recovery: 50, HRV 7-day trend up +20 / down −15 (needs 2 readings), sleep ≥ 7.5 h +20 / < 6 h −20, "
        "resting HR ≤ 60 +10 / > 75 −10, clamped to 0–100; ≥ 80 excellent, ≥ 60 good, ≥ 40 moderate, else "
        "needs_rest. Only values of the last 72 hours count. Today's score is kept as the recovery_score metric "
        "(one per day), so it can be trended with /metrics/trend."
    ),
    responses=_ERRORS,
)
async def context(uow: WritingUoWDep, me: CurrentIdentity) -> HealthContext:
    return await HealthSyncService(uow).context(me.identity_id)


@router.post(
    "/import/apple-health",
    response_model=AppleHealthImport,
    summary="Import an Apple Health export (export.xml, or the export .zip)",
    description=(
        "Reads resting heart rate, HRV (SDNN), steps and active energy (totals per day of your time zone), body "
        "mass (lb converted to kg), body fat percentage and sleep (asleep time per night, on the day you woke "
        "up). Implausible or unreadable records are skipped and counted. Importing the same export again changes "
        "nothing. Files declaring XML entities are refused. Like a sync, refused with 403 after you withdrew "
        "consent to device health sync."
    ),
    responses={**_SYNC_ERRORS, 413: problem_schema(), 429: problem_schema()},
    openapi_extra=limits("UPLOAD"),
)
async def import_apple_health(
    uow: UoWDep,
    me: CurrentIdentity,
    file: Annotated[UploadFile, File(description="export.xml or the export .zip from the Health app")],
) -> AppleHealthImport:
    return await HealthSyncService(uow).import_apple_health(me.identity_id, file.file, file.size)
