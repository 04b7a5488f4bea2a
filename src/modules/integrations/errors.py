from __future__ import annotations

from src.core.errors import Conflict, NotFound, PayloadTooLarge, UnprocessableEntity


class WebhookEndpointNotFound(NotFound):
    code = "WEBHOOK_ENDPOINT_NOT_FOUND"


class WebhookTargetRefused(UnprocessableEntity):
    """The URL is not HTTPS, or its host resolves to an address that is not public."""

    code = "WEBHOOK_TARGET_REFUSED"


class TooManyWebhookEndpoints(Conflict):
    code = "TOO_MANY_WEBHOOK_ENDPOINTS"


class CalendarFeedNotFound(NotFound):
    code = "CALENDAR_FEED_NOT_FOUND"


class CsvUnreadable(UnprocessableEntity):
    code = "CSV_UNREADABLE"


class CsvColumnsMissing(UnprocessableEntity):
    code = "CSV_COLUMNS_MISSING"


class CsvTooLarge(PayloadTooLarge):
    code = "CSV_TOO_LARGE"
