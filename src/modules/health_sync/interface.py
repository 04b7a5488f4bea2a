"""The door into health sync for other modules."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import TYPE_CHECKING
from uuid import UUID
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from src.modules.metrics import Metric

    from .recovery import CurrentRecovery


class HealthSyncInterface(ABC):
    """Device health data and the recovery score, for other modules."""

    @abstractmethod
    async def recovery_today(
        self,
        identity_id: UUID,
        *,
        accessed_by: str,
        latest: Mapping[str, Metric] | None = None,
        zone: ZoneInfo | None = None,
    ) -> CurrentRecovery:
        """Today's recovery (the person's local day) computed from recent device values, without
        storing it. `latest` may hand over the newest value per metric type the caller has already
        read. The read is journalled under `accessed_by`."""
