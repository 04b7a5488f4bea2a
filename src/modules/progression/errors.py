from __future__ import annotations

from src.core.errors import UnprocessableEntity


class InvalidActivityDate(UnprocessableEntity):
    code = "INVALID_ACTIVITY_DATE"
