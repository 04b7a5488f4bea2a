"""Account problems: the erasure needs explicit confirmation (`ConfirmationRequired`, shared)."""

from src.core.errors import ConfirmationRequired

__all__ = ["ConfirmationRequired"]
