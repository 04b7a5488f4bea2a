from __future__ import annotations

from src.core.errors import NotFound, UnprocessableEntity


class EventNotFound(NotFound):
    code = "EVENT_NOT_FOUND"


class EventTypeNotAllowed(UnprocessableEntity):
    code = "EVENT_TYPE_NOT_ALLOWED"


class TimestampOutOfRange(UnprocessableEntity):
    code = "TIMESTAMP_OUT_OF_RANGE"


class InvalidCursor(UnprocessableEntity):
    code = "INVALID_CURSOR"
