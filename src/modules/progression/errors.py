from __future__ import annotations

from src.core.errors import NotFound, UnprocessableEntity


class IdentityUnknown(NotFound):
    code = "IDENTITY_NOT_FOUND"


class InvalidActivityDate(UnprocessableEntity):
    code = "INVALID_ACTIVITY_DATE"
