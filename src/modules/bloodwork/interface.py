"""The door into bloodwork for other modules. No other module calls bloodwork yet, so the door has
no methods: an interface method is added only when another module needs it."""

from __future__ import annotations

from abc import ABC


class BloodworkInterface(ABC):  # noqa: B024 - deliberately without methods until a caller exists
    """Lab reports and their results, for other modules."""
