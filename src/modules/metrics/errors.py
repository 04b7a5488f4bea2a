from __future__ import annotations

from src.core.errors import Conflict, NotFound, UnprocessableEntity


class MetricNotFound(NotFound):
    code = "METRIC_NOT_FOUND"


class InvalidMetric(UnprocessableEntity):
    code = "INVALID_METRIC"


class FilterRequired(UnprocessableEntity):
    code = "FILTER_REQUIRED"


class MeasurementConflict(Conflict):
    code = "MEASUREMENT_CONFLICT"
