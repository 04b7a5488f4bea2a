from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from src.core.types import JSONType, UTCDateTime
from src.database import Base


class CoachSettingsRow(Base):
    __tablename__ = "coach_user_settings"

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    personality: Mapped[str] = mapped_column(String(20), default="motivational")
    share_wellbeing_data: Mapped[bool] = mapped_column(Boolean, default=False)
    share_biomarkers: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ConversationRow(Base):
    """A conversation. The session id is random (it does not embed the identity id)."""

    __tablename__ = "coach_conversations"
    __table_args__ = (Index("ix_coach_conversations_identity_last", "identity_id", "last_message_at"),)

    session_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    identity_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime())
    is_archived: Mapped[bool] = mapped_column(Boolean, default=False)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    # Compaction: a summary of every message up to `summary_upto_id` (inclusive).
    summary: Mapped[str | None] = mapped_column(Text)
    summary_upto_id: Mapped[int | None] = mapped_column(Integer)
    memory_extracted_count: Mapped[int] = mapped_column(Integer, default=0)


class MessageRow(Base):
    __tablename__ = "coach_messages"
    __table_args__ = (Index("ix_coach_messages_session_id", "session_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("coach_conversations.session_id", ondelete="CASCADE"))
    identity_id: Mapped[uuid.UUID] = mapped_column(index=True)
    type: Mapped[str] = mapped_column(String(10))
    content: Mapped[str] = mapped_column(Text)
    safety_redirected: Mapped[bool] = mapped_column(Boolean, default=False)
    interrupted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class MemoryRow(Base):
    __tablename__ = "coach_memories"
    __table_args__ = (Index("ix_coach_memories_identity", "identity_id", "is_active"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    identity_id: Mapped[uuid.UUID]
    memory_type: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(30))
    content: Mapped[str] = mapped_column(String(500))
    confidence: Mapped[float] = mapped_column(Float)
    source_session_id: Mapped[str | None] = mapped_column(String(100))
    extracted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class EvaluationRow(Base):
    __tablename__ = "coach_evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("coach_messages.id", ondelete="CASCADE"), index=True)
    identity_id: Mapped[uuid.UUID] = mapped_column(index=True)
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    scores: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    reasoning: Mapped[str | None] = mapped_column(Text)
    judge_model: Mapped[str] = mapped_column(String(100))


class DailyUsageRow(Base):
    """Messages a person sent to the coach on one local day (the daily quota)."""

    __tablename__ = "coach_daily_usage"

    identity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0)


class SafetyEventRow(Base):
    """That a message was redirected for safety (category only, never the text)."""

    __tablename__ = "coach_safety_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    identity_id: Mapped[uuid.UUID] = mapped_column(index=True)
    category: Mapped[str] = mapped_column(String(30))
    endpoint: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
