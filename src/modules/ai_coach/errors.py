from __future__ import annotations

from src.core.errors import NotFound, TooManyRequests


class ConversationNotFound(NotFound):
    code = "CONVERSATION_NOT_FOUND"


class MemoryNotFound(NotFound):
    code = "COACH_MEMORY_NOT_FOUND"


class CoachQuotaExceeded(TooManyRequests):
    code = "COACH_DAILY_QUOTA_EXCEEDED"
    title = "Daily coach message limit reached"
