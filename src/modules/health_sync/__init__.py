"""Health sync: consent to device health data, syncs from Apple HealthKit and Android Health
Connect, Apple Health export imports, and the recovery score with its insights."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import (
    ConfirmationRequired,
    HealthExportTooLarge,
    InvalidHealthExport,
    InvalidHealthValue,
    UnsafeHealthExport,
)
from .interface import HealthSyncInterface
from .models import ConsentBasis, ConsentStatus, HealthConsent, HealthPlatform
from .recovery import CurrentRecovery, Recovery

if TYPE_CHECKING:
    from src.core.uow import UnitOfWork


def health_sync(uow: UnitOfWork) -> HealthSyncInterface:
    from .service import HealthSyncService

    return HealthSyncService(uow)


__all__ = [
    "ConfirmationRequired",
    "ConsentBasis",
    "ConsentStatus",
    "CurrentRecovery",
    "HealthConsent",
    "HealthConsentWithdrawn",
    "HealthExportTooLarge",
    "HealthPlatform",
    "HealthSyncInterface",
    "InvalidHealthExport",
    "InvalidHealthValue",
    "Recovery",
    "UnsafeHealthExport",
    "health_sync",
]
