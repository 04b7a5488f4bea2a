from __future__ import annotations

from src.core.errors import Conflict, Forbidden, NotFound, UnprocessableEntity


class MetricNotFound(NotFound):
    code = "METRIC_NOT_FOUND"


class InvalidMetric(UnprocessableEntity):
    code = "INVALID_METRIC"


class FilterRequired(UnprocessableEntity):
    code = "FILTER_REQUIRED"


class InvalidPeriod(UnprocessableEntity):
    code = "INVALID_PERIOD"


class HealthConsentWithdrawn(Forbidden):
    code = "HEALTH_CONSENT_WITHDRAWN"
    title = "Health sync consent withdrawn"


class MeasurementConflict(Conflict):
    code = "MEASUREMENT_CONFLICT"
