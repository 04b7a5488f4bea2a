from __future__ import annotations

from src.core.errors import Conflict, NotFound, UnprocessableEntity


class WindowNotFound(NotFound):
    code = "WINDOW_NOT_FOUND"


class WindowAlreadyActive(Conflict):
    code = "WINDOW_ALREADY_ACTIVE"


class FastInProgress(Conflict):
    code = "FAST_IN_PROGRESS"


class WindowNotActive(Conflict):
    code = "WINDOW_NOT_ACTIVE"


class WindowNotPaused(Conflict):
    code = "WINDOW_NOT_PAUSED"


class FastingNotSafe(Conflict):
    code = "FASTING_NOT_SAFE"


class OverlappingFast(Conflict):
    code = "OVERLAPPING_FAST"


class OverlappingEatingWindow(Conflict):
    code = "OVERLAPPING_EATING_WINDOW"


class InvalidWindowTime(UnprocessableEntity):
    code = "INVALID_WINDOW_TIME"


class UnsupportedForWindowType(UnprocessableEntity):
    code = "UNSUPPORTED_FOR_WINDOW_TYPE"


class FastsTooClose(Conflict):
    code = "FASTS_TOO_CLOSE"


class TooManyPauses(Conflict):
    code = "TOO_MANY_PAUSES"
