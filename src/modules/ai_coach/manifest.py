from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import delete, select

from src.core.gdpr import PersonalData
from src.core.modules import ModuleManifest
from src.core.uow import UnitOfWork

from .extraction import MEMORY_TOPIC, extract_memories
from .judge import judge_answer
from .orm import (
    CoachSettingsRow,
    ConversationRow,
    DailyUsageRow,
    EvaluationRow,
    MemoryRow,
    MessageRow,
    SafetyEventRow,
)
from .routes import router
from .service import JUDGE_TOPIC, CoachService
from .summary import SUMMARY_TOPIC, summarise

TABLES = (
    "coach_user_settings",
    "coach_conversations",
    "coach_messages",
    "coach_memories",
    "coach_evaluations",
    "coach_daily_usage",
    "coach_safety_events",
)


async def _export(uow: UnitOfWork, identity_id: UUID) -> dict[str, Any]:
    exported = (await CoachService(uow).export(identity_id)).model_dump(mode="json")
    evaluations = await uow.session.execute(
        select(EvaluationRow.message_id, EvaluationRow.evaluated_at, EvaluationRow.scores, EvaluationRow.judge_model)
        .where(EvaluationRow.identity_id == identity_id)
        .order_by(EvaluationRow.id)
    )
    exported["evaluations"] = [
        {
            "message_id": r.message_id,
            "evaluated_at": r.evaluated_at.isoformat(),
            "scores": r.scores,
            "judge_model": r.judge_model,
        }
        for r in evaluations
    ]
    usage = await uow.session.execute(
        select(DailyUsageRow.day, DailyUsageRow.messages).where(DailyUsageRow.identity_id == identity_id)
    )
    exported["daily_usage"] = [{"day": r.day.isoformat(), "messages": r.messages} for r in usage]
    events = await uow.session.execute(
        select(SafetyEventRow.category, SafetyEventRow.endpoint, SafetyEventRow.created_at).where(
            SafetyEventRow.identity_id == identity_id
        )
    )
    exported["safety_events"] = [
        {"category": r.category, "endpoint": r.endpoint, "created_at": r.created_at.isoformat()} for r in events
    ]
    return exported


async def _erase(uow: UnitOfWork, identity_id: UUID) -> int:
    count = 0
    for model in (
        EvaluationRow,
        MessageRow,
        ConversationRow,
        MemoryRow,
        DailyUsageRow,
        SafetyEventRow,
        CoachSettingsRow,
    ):
        result = await uow.session.execute(delete(model).where(model.identity_id == identity_id))
        count += int(result.rowcount)  # type: ignore[attr-defined]
    return count


MANIFEST = ModuleManifest(
    name="ai_coach",
    router=router,
    outbox_handlers={JUDGE_TOPIC: judge_answer, MEMORY_TOPIC: extract_memories, SUMMARY_TOPIC: summarise},
    personal_data=PersonalData(
        module="ai_coach",
        tables=TABLES,
        export=_export,
        erase=_erase,
        anonymize=None,  # nothing of a conversation is worth keeping without the person
        order=250,
    ),
)
