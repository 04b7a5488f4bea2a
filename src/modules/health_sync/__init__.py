"""Health sync: consent to device health data, syncs from Apple HealthKit and Android Health
Connect, Apple Health export imports, and the recovery score with its insights."""

from .errors import (
    ConfirmationRequired,
    HealthExportTooLarge,
    InvalidHealthExport,
    InvalidHealthValue,
    UnsafeHealthExport,
)
from .interface import HealthSyncInterface
from .models import ConsentBasis, ConsentStatus, HealthConsent, HealthPlatform

__all__ = [
    "ConfirmationRequired",
    "ConsentBasis",
    "ConsentStatus",
    "HealthConsent",
    "HealthConsentWithdrawn",
    "HealthExportTooLarge",
    "HealthPlatform",
    "HealthSyncInterface",
    "InvalidHealthExport",
    "InvalidHealthValue",
    "UnsafeHealthExport",
]
