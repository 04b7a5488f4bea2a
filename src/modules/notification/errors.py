from __future__ import annotations

from src.core.errors import Conflict, NotFound, UnprocessableEntity


class NotificationNotFound(NotFound):
    code = "NOTIFICATION_NOT_FOUND"


class DeviceTokenNotFound(NotFound):
    code = "DEVICE_TOKEN_NOT_FOUND"


class DeviceTokenInUse(Conflict):
    code = "DEVICE_TOKEN_IN_USE"


class InvalidQuietHours(UnprocessableEntity):
    code = "INVALID_QUIET_HOURS"


class EmailNotVerified(UnprocessableEntity):
    code = "NOTIFICATION_EMAIL_NOT_VERIFIED"
