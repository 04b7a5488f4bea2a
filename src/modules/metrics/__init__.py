"""Metrics: time series of measurements (weight, body composition, device vitals, lab biomarkers)."""

from src.core.uow import UnitOfWork

from .errors import InvalidMetric
from .interface import Measurement, MetricsInterface, StoredMeasurement
from .models import (
    BiomarkerFlag,
    Metric,
    MetricSource,
    MetricTrend,
    MetricType,
)
from .registry import BIOMARKER_PREFIX


def metrics(uow: UnitOfWork) -> MetricsInterface:
    from .service import MetricsService

    return MetricsService(uow)


__all__ = [
    "BIOMARKER_PREFIX",
    "BiomarkerFlag",
    "InvalidMetric",
    "Measurement",
    "Metric",
    "MetricSource",
    "MetricTrend",
    "MetricType",
    "MetricsInterface",
    "StoredMeasurement",
    "metrics",
]
