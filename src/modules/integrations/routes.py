from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Path, Request, Response, status

from src.core.errors import problem_schema
from src.core.routing import ModuleRouter
from src.dependencies import CurrentIdentity, UoWDep, WritingUoWDep

from .calendar import CalendarFeeds
from .models import (
    CalendarFeed,
    CalendarFeedStatus,
    CreatedWebhookEndpoint,
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
        "`metric.recorded`, `challenge.won`. Each message is a JSON `{type, timestamp, data}` POSTed with "
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
        "window) and completed workouts of the last 90 days, in your time zone. It holds no health values."
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
