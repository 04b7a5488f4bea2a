"""The door into metrics for other modules (health sync, bloodwork uploads, coach)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict

from src.core.contracts import Reward

from .models import BiomarkerFlag, HealthConsent, HealthPlatform, Metric, MetricSource, MetricTrend


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


class StoredMeasurement(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    metric_type: str
    value: float
    changed: bool  # False when the very same measurement was already stored
    reward: Reward | None = None


class LabReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: UUID
    identity_id: UUID
    sha256: str
    storage_key: str | None
    content_type: str
    size_bytes: int
    test_date: AwareDatetime | None
    parser: str
    biomarker_count: int
    lab_name: str | None
    parsed: list[dict[str, object]]
    created_at: AwareDatetime


class MetricsInterface(ABC):
    @abstractmethod
    async def find_lab_report(self, identity_id: UUID, sha256: str) -> LabReport | None:
        """The report already imported from the same file, if any."""

    @abstractmethod
    async def create_lab_report(
        self,
        identity_id: UUID,
        *,
        sha256: str,
        storage_key: str | None,
        content_type: str,
        size_bytes: int,
        test_date: datetime | None,
        parser: str,
        lab_name: str | None,
        parsed: list[dict[str, object]],
    ) -> tuple[LabReport, bool]:
        """Record an uploaded report; returns (report, created). When the same file was imported
        concurrently, returns the existing report and False."""

    @abstractmethod
    async def set_lab_report_count(self, report_id: UUID, biomarker_count: int) -> None: ...

    @abstractmethod
    async def lab_report_keys(self, identity_id: UUID) -> list[str]:
        """Storage keys of the person's original documents (for erasure)."""

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
    async def latest_values(
        self, identity_id: UUID, metric_types: Sequence[str], *, accessed_by: str
    ) -> dict[str, Metric]:
        """Newest value per type (one query); the read is recorded in the journal."""

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
    async def bulk_delete(
        self, identity_id: UUID, *, metric_type: str | None, before: datetime | None, confirm: bool
    ) -> int: ...

    @abstractmethod
    async def delete_by_source(
        self, identity_id: UUID, source: MetricSource, *, metric_types: Sequence[str] | None = None
    ) -> int:
        """Delete the person's values from one source (optionally only some types); the count."""

    # Consent to device health sync ------------------------------------------------------------

    @abstractmethod
    async def health_consent(self, identity_id: UUID) -> HealthConsent | None:
        """The recorded consent, or None when the person never synced nor decided."""

    @abstractmethod
    async def set_health_consent(
        self,
        identity_id: UUID,
        *,
        granted: bool,
        platform: HealthPlatform | None = None,
        policy_version: str | None = None,
    ) -> HealthConsent:
        """Record the person's explicit decision (race-free upsert); a change is journalled."""

    @abstractmethod
    async def require_health_consent(
        self, identity_id: UUID, *, platform: HealthPlatform | None = None, record: bool = True
    ) -> HealthConsent | None:
        """Before storing device data: raises HealthConsentWithdrawn after a withdrawal; with no
        record yet, records consent on the basis of the first sync (`record=False`: only checks,
        writes nothing and returns None when nothing is recorded)."""
