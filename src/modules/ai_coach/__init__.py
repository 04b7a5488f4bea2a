"""AI coach: a wellness coach grounded in the person's own data, streamed, with safety first;
offline by default, any supported language model when configured."""

from .errors import CoachQuotaExceeded, ConversationNotFound, MemoryNotFound
from .interface import AICoachInterface
from .models import MemoryCategory, MemoryType, MessageType, Personality

__all__ = [
    "AICoachInterface",
    "CoachQuotaExceeded",
    "ConversationNotFound",
    "MemoryCategory",
    "MemoryNotFound",
    "MemoryType",
    "MessageType",
    "Personality",
]
