"""The door into metrics for other modules (health sync, bloodwork, coach): time series only."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict

from src.core.contracts import Reward

from .models import BiomarkerFlag, Metric, MetricSource, MetricTrend


class Measurement(BaseModel):
    model_config = ConfigDict(frozen=True)

    metric_type: str
    value: float
    timestamp: AwareDatetime
    # For a daily total: the local day it totals (stored at that day's local midnight). A later
    # total of the same day replaces it, even after the person's time zone changed.
    day: date | None = None
    unit: str | None = None
    value_text: str | None = None
    note: str | None = None
    reference_low: float | None = None
    reference_high: float | None = None
    flag: BiomarkerFlag | None = None
    # A lab result as given, when it was converted to its series' unit (set by metrics).
    original_value: float | None = None
    original_unit: str | None = None


class StoredMeasurement(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    metric_type: str
    value: float
    changed: bool  # False when the very same measurement was already stored
    reward: Reward | None = None


class MetricsInterface(ABC):
    @abstractmethod
    async def store(
        self,
        identity_id: UUID,
        measurements: Sequence[Measurement],
        *,
        source: MetricSource,
        lab_report_id: UUID | None = None,
        record_events: bool = True,
    ) -> list[StoredMeasurement]:
        """Validate (raises InvalidMetric) and upsert; weight logs are credited."""

    @abstractmethod
    async def store_import(
        self, identity_id: UUID, measurements: Sequence[Measurement], *, source: MetricSource
    ) -> list[StoredMeasurement | None]:
        """One batch of an import, in a few statements: upserted like `store`, None for a
        measurement that fails validation, no event per row, nothing credited."""

    @abstractmethod
    async def credit_weight_log(
        self, identity_id: UUID, stored: StoredMeasurement, measured_at: datetime
    ) -> Reward | None:
        """Credit a stored device weigh-in (on its day within the back-fill window, else now)."""

    @abstractmethod
    async def latest_values(
        self, identity_id: UUID, metric_types: Sequence[str], *, accessed_by: str
    ) -> dict[str, Metric]:
        """Newest value per type (one query); the read is recorded in the journal."""

    @abstractmethod
    async def series_for(self, identity_id: UUID, metric_type: str, *, limit: int, accessed_by: str) -> list[Metric]:
        """The newest `limit` values of a type, oldest first; the read is recorded in the journal."""

    @abstractmethod
    async def latest_biomarkers(self, identity_id: UUID, *, accessed_by: str, limit: int = 40) -> list[Metric]:
        """The newest value of each lab biomarker (with reference range and flag, newest test
        first, one query); the read is recorded in the journal."""

    @abstractmethod
    async def trend_for(
        self, identity_id: UUID, metric_type: str, *, period_days: int, accessed_by: str
    ) -> MetricTrend | None:
        """Least-squares trend over the period; the read is recorded in the journal."""

    @abstractmethod
    async def move_lab_report(self, identity_id: UUID, lab_report_id: UUID, *, timestamp: datetime, day: date) -> int:
        """Move a lab report's results to another test day (raises MeasurementConflict when the
        person already has results of the same analytes on that day); the count moved."""

    @abstractmethod
    async def lab_report_results(self, identity_id: UUID, lab_report_id: UUID) -> list[Metric]:
        """The results read from one lab report, by metric type."""

    @abstractmethod
    async def delete_by_source(
        self, identity_id: UUID, source: MetricSource, *, metric_types: Sequence[str] | None = None
    ) -> int:
        """Delete the person's values from one source (optionally only some types); the count."""
