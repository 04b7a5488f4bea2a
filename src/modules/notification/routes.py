from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Query, Response, status

from src.core.errors import problem_schema
from src.core.routing import ModuleRouter
from src.dependencies import AdminIdentity, CurrentIdentity, UoWDep

from .models import (
    DeviceRegistration,
    DeviceToken,
    MarkedRead,
    Notification,
    NotificationStats,
    Preferences,
    PreferencesUpdate,
    Queued,
    SendRequest,
)
from .service import NotificationService

router = ModuleRouter(prefix="/notifications", tags=["notifications"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: problem_schema() for code in (401, 404, 409, 422)}


@router.get(
    "",
    response_model=list[Notification],
    summary="Your delivered notifications, newest first",
    description="Only notifications delivered in-app (held, dropped and switched-off ones are not listed).",
    responses=_ERRORS,
)
async def list_notifications(
    uow: UoWDep,
    principal: CurrentIdentity,
    unread_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[Notification]:
    return await NotificationService(uow).notifications(
        principal.identity_id, unread_only=unread_only, limit=limit, offset=offset
    )


@router.get("/unread-count", response_model=int, summary="How many delivered notifications are unread")
async def unread_count(uow: UoWDep, principal: CurrentIdentity) -> int:
    return await NotificationService(uow).unread_count(principal.identity_id)


@router.post(
    "/read-all",
    response_model=MarkedRead,
    summary="Mark every delivered notification read",
    description="Held or undelivered notifications are not touched.",
)
async def read_all(uow: UoWDep, principal: CurrentIdentity) -> MarkedRead:
    return await NotificationService(uow).mark_all_read(principal.identity_id)


@router.post(
    "/send",
    response_model=Queued,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Admin: queue a notification for a person",
    description="Needs the admin capability. Delivered after commit like every notification (rules applied).",
    responses=_ERRORS,
)
async def send(uow: UoWDep, principal: AdminIdentity, request: SendRequest) -> Queued:
    return await NotificationService(uow).admin_send(principal.identity_id, request)


@router.post(
    "/devices",
    response_model=DeviceToken,
    status_code=status.HTTP_201_CREATED,
    summary="Register this device's push token",
    description=(
        "Registering again refreshes the token. A token registered by another account moves here only when "
        "that account signed out on the device, or with the same `device_id` within 15 minutes of signing in; "
        "otherwise 409 `DEVICE_TOKEN_IN_USE`. Signing out deactivates the tokens registered in that session."
    ),
    responses=_ERRORS,
)
async def register_device(uow: UoWDep, principal: CurrentIdentity, request: DeviceRegistration) -> DeviceToken:
    return await NotificationService(uow).register_device(principal, request)


@router.get("/devices", response_model=list[DeviceToken], summary="Your active push tokens")
async def list_devices(uow: UoWDep, principal: CurrentIdentity) -> list[DeviceToken]:
    return await NotificationService(uow).devices(principal.identity_id)


@router.delete(
    "/devices/{token:path}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Stop pushes to a token (URL-encoded in the path)",
    responses=_ERRORS,
)
async def delete_device(uow: UoWDep, principal: CurrentIdentity, token: str) -> Response:
    await NotificationService(uow).deactivate_device(principal.identity_id, token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/preferences",
    response_model=Preferences,
    summary="Your notification settings",
    description="The saved settings, or the defaults when none were saved (reading saves nothing).",
)
async def get_preferences(uow: UoWDep, principal: CurrentIdentity) -> Preferences:
    return await NotificationService(uow).preferences(principal.identity_id)


@router.patch(
    "/preferences",
    response_model=Preferences,
    summary="Change notification settings",
    description=(
        "Only the fields sent change. `null` clears `quiet_hours_start`, `quiet_hours_end`, "
        "`daily_motivation_time` and `email_address`. Quiet hours are wall-clock times in your profile's time "
        "zone and may wrap midnight (22:00–07:00). `email_address` must be the address you sign in with."
    ),
    responses=_ERRORS,
)
async def update_preferences(uow: UoWDep, principal: CurrentIdentity, request: PreferencesUpdate) -> Preferences:
    return await NotificationService(uow).update_preferences(principal.identity_id, request)


@router.get("/stats", response_model=NotificationStats, summary="Delivered and read counts")
async def stats(uow: UoWDep, principal: CurrentIdentity) -> NotificationStats:
    return await NotificationService(uow).stats(principal.identity_id)


@router.post(
    "/{notification_id}/read",
    response_model=Notification,
    summary="Mark one of your notifications read",
    description="Someone else's notification answers 404.",
    responses=_ERRORS,
)
async def mark_read(uow: UoWDep, principal: CurrentIdentity, notification_id: UUID) -> Notification:
    return await NotificationService(uow).mark_read(principal.identity_id, notification_id)
