"""The door into health sync for other modules. No other module calls it yet, so the door has no
methods: an interface method is added only when another module needs it."""

from __future__ import annotations

from abc import ABC


class HealthSyncInterface(ABC):  # noqa: B024 - deliberately without methods until a caller exists
    """Device health data and the recovery score, for other modules."""
