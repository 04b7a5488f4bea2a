"""Account: everything held about a person, across every module, exported, erased or anonymised
through the personal-data registry."""

from .errors import ConfirmationRequired
from .interface import AccountInterface
from .models import AnonymizationResult, DeletionResult

__all__ = ["AccountInterface", "AnonymizationResult", "ConfirmationRequired", "DeletionResult"]
