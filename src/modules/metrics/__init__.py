"""Metrics: time series of measurements (weight, body composition, device vitals, lab biomarkers)."""

from src.core.uow import UnitOfWork

from .errors import InvalidMetric, MeasurementConflict
from .fhir import BUNDLE_EXAMPLE as FHIR_BUNDLE_EXAMPLE
from .fhir import BY_LOINC, FLAG_OF_INTERPRETATION, LOINC_SYSTEM, UCUM_SYSTEM, diagnostic_report, lab_observation
from .fhir import bundle as fhir_bundle
from .fhir import text_observation as fhir_text_observation
from .interface import Measurement, MetricsInterface, StoredMeasurement
from .lab_units import ucum_code
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
    "BY_LOINC",
    "FHIR_BUNDLE_EXAMPLE",
    "FLAG_OF_INTERPRETATION",
    "LOINC_SYSTEM",
    "UCUM_SYSTEM",
    "BiomarkerFlag",
    "InvalidMetric",
    "Measurement",
    "MeasurementConflict",
    "Metric",
    "MetricSource",
    "MetricTrend",
    "MetricType",
    "MetricsInterface",
    "StoredMeasurement",
    "diagnostic_report",
    "fhir_bundle",
    "fhir_text_observation",
    "lab_observation",
    "metrics",
    "ucum_code",
]
