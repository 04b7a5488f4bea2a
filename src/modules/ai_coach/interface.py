"""The door into the coach for other modules.

No other module calls the coach today: it only reads theirs (through their interfaces). A method
is added here when another module needs one."""

from __future__ import annotations

from abc import ABC


class AICoachInterface(ABC):  # noqa: B024 - deliberately empty until another module needs the coach
    """Reserved for other modules' calls into the coach."""
