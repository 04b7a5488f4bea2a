from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Path, Query, Request, Response, status

from src.core.errors import problem_schema
from src.core.routing import ModuleRouter
from src.core.scopes import TokenScope, token_scope
from src.dependencies import CurrentIdentity, UoWDep, WritingUoWDep

from .calendar import CalendarFeeds
from .csv_io import MAX_BYTES, CsvExports, CsvImports
from .errors import CsvTooLarge
from .models import (
    CalendarFeed,
    CalendarFeedStatus,
    CreatedWebhookEndpoint,
    CsvImportResult,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointCreate,
)
from .webhooks import Webhooks

# Personal access tokens are refused on every route here (no scope declared): they cannot make
# webhooks or feeds, nor read their secrets.
router = ModuleRouter(prefix="/integrations", tags=["integrations"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: problem_schema() for code in (401, 403, 404, 409, 422)}


@router.post(
    "/webhooks",
    response_model=CreatedWebhookEndpoint,
    status_code=status.HTTP_201_CREATED,
    summary="Register an HTTPS endpoint for some event types (its signing secret is shown once)",
    description=(
        "Event types: `fast.completed`, `workout.completed`, `achievement.unlocked`, `level.up`, "
        "`metric.recorded`, `challenge.won` (its `data` names the challenge: `challenge_id`, `name`). Each "
        "message is a JSON `{type, timestamp, data}` POSTed with "
        "the Standard Webhooks headers `webhook-id`, `webhook-timestamp` and `webhook-signature` "
        "(HMAC-SHA256 with the returned `secret`). A delivery that fails (no 2xx answer within 10 s; "
        "redirects are not followed) is retried with back-off for about three days; an endpoint failing "
        "for 3 days is disabled and you are notified. The URL must be https and its host must resolve "
        "only to public addresses (422 `WEBHOOK_TARGET_REFUSED`)."
    ),
    responses=_ERRORS,
)
async def create_webhook(uow: UoWDep, me: CurrentIdentity, body: WebhookEndpointCreate) -> CreatedWebhookEndpoint:
    return await Webhooks(uow).create(me.identity_id, body)


@router.get("/webhooks", response_model=list[WebhookEndpoint], summary="Your webhook endpoints", responses=_ERRORS)
async def list_webhooks(uow: UoWDep, me: CurrentIdentity) -> list[WebhookEndpoint]:
    return await Webhooks(uow).list_endpoints(me.identity_id)


@router.delete(
    "/webhooks/{endpoint_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a webhook endpoint and its delivery log",
    responses=_ERRORS,
)
async def delete_webhook(uow: UoWDep, me: CurrentIdentity, endpoint_id: UUID) -> Response:
    await Webhooks(uow).delete(me.identity_id, endpoint_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/webhooks/{endpoint_id}/deliveries",
    response_model=list[WebhookDelivery],
    summary="Delivery log of an endpoint, newest first (last 30 days, at most 100)",
    responses=_ERRORS,
)
async def webhook_deliveries(uow: UoWDep, me: CurrentIdentity, endpoint_id: UUID) -> list[WebhookDelivery]:
    return await Webhooks(uow).deliveries(me.identity_id, endpoint_id)


@router.post(
    "/calendar",
    response_model=CalendarFeed,
    status_code=status.HTTP_201_CREATED,
    summary="Make (or remake) your secret calendar feed URL",
    description=(
        "Returns the feed's URL and its `webcal://` form once; an earlier URL stops working. The feed is "
        "an iCalendar (RFC 5545) file of your fasts (completed and planned, with protocol and eating "
        "window) and completed workouts of the last 90 days, in your time zone, and the challenges you take "
        "part in as all-day events over their dates. It holds no health values."
    ),
    responses=_ERRORS,
)
async def create_calendar_feed(uow: UoWDep, me: CurrentIdentity, request: Request) -> CalendarFeed:
    return await CalendarFeeds(uow).create(me.identity_id, base_url=str(request.base_url))


@router.get(
    "/calendar", response_model=CalendarFeedStatus, summary="Whether you have a calendar feed", responses=_ERRORS
)
async def calendar_feed_status(uow: UoWDep, me: CurrentIdentity) -> CalendarFeedStatus:
    return await CalendarFeeds(uow).status(me.identity_id)


@router.delete(
    "/calendar",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke your calendar feed URL (it answers 404 from now on)",
    responses=_ERRORS,
)
async def revoke_calendar_feed(uow: UoWDep, me: CurrentIdentity) -> Response:
    await CalendarFeeds(uow).revoke(me.identity_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/calendar/{token}.ics",
    summary="A calendar feed (the secret URL is the credential; no sign-in)",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}}, 404: problem_schema()},
)
async def calendar_feed(uow: WritingUoWDep, token: Annotated[str, Path(min_length=20, max_length=100)]) -> Response:
    body = await CalendarFeeds(uow).render(token)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, max-age=300", "Content-Disposition": 'inline; filename="ugoki.ics"'},
    )


# CSV --------------------------------------------------------------------------------------------

_CSV_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string"}, "example": "date,weight_kg\n2026-03-01,81.4\n"}},
    }
}


async def _csv_body(request: Request) -> bytes:
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk)
        if len(data) > MAX_BYTES:
            raise CsvTooLarge(f"A CSV file may have at most {MAX_BYTES // 1024} KiB")
    return bytes(data)


@router.post(
    "/csv/weights",
    response_model=CsvImportResult,
    summary="Import weigh-ins from a CSV file (idempotent)",
    description=(
        "Body: the CSV file itself (`text/csv`), UTF-8 with or without BOM, a header row, comma, semicolon "
        "or tab separated (with semicolons a decimal comma is read). Columns, by name: a date "
        "(`date`, `timestamp`, `datetime`, `time`, `day`, `measured_at`) and a weight (`weight_kg`, "
        "`weight (kg)`, `kg`, `weight_lb`, `weight (lbs)`, `lb`, `weight`, `value`); an optional `unit` "
        "column (`kg`/`lb`) or `?unit=` for a bare `weight` column. A date without a time is noon in your "
        "time zone. Rows go through the same checks as `POST /metrics`; importing the same file again "
        "changes nothing. At most 1 MiB, 5000 rows, 1000 characters a line."
    ),
    responses=_ERRORS | {413: problem_schema()},
    openapi_extra=_CSV_BODY | token_scope(TokenScope.METRICS_WRITE),
)
async def import_weights(
    uow: UoWDep,
    me: CurrentIdentity,
    request: Request,
    unit: Annotated[str, Query(pattern="^(kg|lb)$", description="Unit of a bare `weight` column")] = "kg",
) -> CsvImportResult:
    return await CsvImports(uow).import_weights(me.identity_id, await _csv_body(request), default_unit=unit)


@router.post(
    "/csv/fasts",
    response_model=CsvImportResult,
    summary="Import finished fasts from a CSV file (idempotent)",
    description=(
        "Body: the CSV file (`text/csv`), as for weights. Columns: a start (`start`, `start_time`, `started`, "
        "`fast start`, `begin`) and an end (`end`, `end_time`, `ended`, `fast end`, `finish`) as date and "
        "time (ISO 8601, or `2026-03-01 20:00`; without an offset: your time zone), and an optional "
        "`protocol` (`16:8`, `18:6`, `20:4`, `OMAD`, `24h`, `36h`; anything else is a custom fast of the "
        "row's length). Each row is logged like `POST /time-keeper/windows` with an `end_time`: at most 7 "
        "days back, never overlapping another fast; a fast with the same start and end is already there."
    ),
    responses=_ERRORS | {413: problem_schema()},
    openapi_extra=_CSV_BODY | token_scope(TokenScope.FASTING_WRITE),
)
async def import_fasts(uow: UoWDep, me: CurrentIdentity, request: Request) -> CsvImportResult:
    return await CsvImports(uow).import_fasts(me.identity_id, await _csv_body(request))


@router.get(
    "/csv/weights",
    summary="Your weigh-ins as CSV: timestamp, date, weight_kg, weight_lb",
    description="Times with their offset in your time zone; the file imports back unchanged. The read is journalled.",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, 401: problem_schema(), 403: problem_schema()},
    openapi_extra=token_scope(TokenScope.EXPORT_READ),
)
async def export_weights(uow: WritingUoWDep, me: CurrentIdentity) -> Response:
    return _csv_response(await CsvExports(uow).weights(me.identity_id), "ugoki-weights.csv")


@router.get(
    "/csv/fasts",
    summary="Your completed fasts as CSV: start, end, protocol, hours",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, 401: problem_schema(), 403: problem_schema()},
    openapi_extra=token_scope(TokenScope.EXPORT_READ),
)
async def export_fasts(uow: UoWDep, me: CurrentIdentity) -> Response:
    return _csv_response(await CsvExports(uow).fasts(me.identity_id), "ugoki-fasts.csv")


def _csv_response(body: bytes, filename: str) -> Response:
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )
