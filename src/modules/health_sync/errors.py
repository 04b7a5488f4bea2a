"""Health sync problems (each a problem body with a stable code)."""

from src.core.errors import ConfirmationRequired, Forbidden, PayloadTooLarge, UnprocessableEntity


class InvalidHealthValue(UnprocessableEntity):
    code = "INVALID_HEALTH_VALUE"
    title = "Invalid health value"


class InvalidHealthExport(UnprocessableEntity):
    code = "INVALID_HEALTH_EXPORT"
    title = "Invalid health export"


class UnsafeHealthExport(UnprocessableEntity):
    code = "XML_ENTITIES_NOT_ALLOWED"
    title = "XML entity declarations are not allowed"


class HealthExportTooLarge(PayloadTooLarge):
    code = "EXPORT_TOO_LARGE"
    title = "Export too large"


class HealthConsentWithdrawn(Forbidden):
    code = "HEALTH_CONSENT_WITHDRAWN"
    title = "Health sync consent withdrawn"


__all__ = [
    "ConfirmationRequired",
    "HealthConsentWithdrawn",
    "HealthExportTooLarge",
    "InvalidHealthExport",
    "InvalidHealthValue",
    "UnsafeHealthExport",
]
