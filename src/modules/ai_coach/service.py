"""The coach's logic: safety screening, quota, the agent run, conversations, memories, settings."""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, UserPromptPart
from pydantic_ai.models import Model
from sqlalchemy import delete, func, select, update

from src.adapters.coach_llm import ConfiguredModel, configured_model
from src.core.persistence import insert_ignore
from src.core.security import Principal
from src.core.uow import UnitOfWork
from src.modules.profile import profile_service

from . import memory as memory_rules
from .data import PersonData
from .errors import CoachQuotaExceeded, ConversationNotFound, MemoryNotFound
from .models import (
    ChatRequest,
    ChatResponse,
    CoachExport,
    CoachResponse,
    CoachSettings,
    CoachSettingsUpdate,
    Conversation,
    ConversationList,
    ConversationMessage,
    ConversationUpdate,
    ExportedConversation,
    ExportedMessage,
    Memory,
    MemoryCategory,
    MemoryType,
    MessageType,
    Personality,
    PersonalityUpdated,
    QuickAction,
    WorkoutSuggestion,
)
from .offline import FASTING_INTENTS, SIGN_OFFS, SUGGESTIONS, Intent, detect_intent, offline_model
from .orm import (
    CoachSettingsRow,
    ConversationRow,
    DailyUsageRow,
    MemoryRow,
    MessageRow,
    SafetyEventRow,
)
from .safety import (
    FASTING_OFF_REPLY,
    MEDICAL_DISCLAIMER,
    MEDICAL_REPLIES,
    SafetyCategory,
    check_message,
    crisis_lines,
    emergency_reply,
    needs_disclaimer,
)
from .tools import CoachDeps, coach_agent

logger = logging.getLogger("ugoki.ai_coach")

QUICK_ACTIONS = (
    QuickAction(label="Start Fast", action="start_fast", params={"protocol": "16:8"}),
    QuickAction(label="Quick Workout", action="start_workout"),
    QuickAction(label="Log Weight", action="log_weight"),
)
SAFETY_SUGGESTIONS = ["Ask about fasting", "Suggest a workout", "Check my progress"]
HISTORY_LIMIT = 20
KEEP_VERBATIM = 10
SUMMARY_LIMIT = 1000
TITLE_LENGTH = 50
JUDGE_TOPIC = "coach.judge"
JUDGE_MIN_CHARS = 50

TOOL_LABELS = {
    "get_active_fast": "active fast",
    "get_fasting_history": "fasting history",
    "get_streaks": "streaks",
    "get_level_info": "level and XP",
    "get_workout_stats": "workout stats",
    "get_recommended_workouts": "workout recommendations",
    "get_weight_trend": "weight trend",
    "get_latest_biomarkers": "lab results",
    "get_recovery_status": "recovery",
    "get_dietary_profile": "dietary profile",
    "get_goals": "goals",
    "get_today_summary": "today's summary",
}


@dataclass
class Screened:
    """The outcome of the checks that run before any model: a fixed reply, or a go-ahead."""

    personality: Personality
    intent: Intent
    reply: str | None = None
    safety_redirected: bool = False
    category: str | None = None


@dataclass
class Answer:
    text: str
    intent: Intent
    safety_redirected: bool
    data: PersonData
    tools: list[str] = field(default_factory=list)


def title_of(message: str) -> str:
    text = " ".join(message.split())
    return text if len(text) <= TITLE_LENGTH else text[:TITLE_LENGTH] + "..."


def finish_text(text: str, intent: Intent) -> tuple[str, bool]:
    """The post-filter: lab answers and replies that stray into clinical territory carry the
    disclaimer. Returns the (possibly extended) text and whether the disclaimer was added."""
    if intent is Intent.BIOMARKER or needs_disclaimer(text):
        return f"{text}\n\n{MEDICAL_DISCLAIMER}", True
    return text, False


def history_messages(rows: list[tuple[str, str]]) -> list[ModelMessage]:
    out: list[ModelMessage] = []
    for kind, content in rows:
        if kind == MessageType.HUMAN:
            out.append(ModelRequest(parts=[UserPromptPart(content=content)]))
        else:
            out.append(ModelResponse(parts=[TextPart(content=content)]))
    return out


class CoachService:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    # Settings -----------------------------------------------------------------------------------

    async def _settings_row(self, identity_id: uuid.UUID) -> CoachSettingsRow | None:
        return await self.session.get(CoachSettingsRow, identity_id)

    async def settings(self, identity_id: uuid.UUID) -> CoachSettings:
        row = await self._settings_row(identity_id)
        if row is None:
            return CoachSettings(
                personality=Personality.MOTIVATIONAL, share_wellbeing_data=False, share_biomarkers=False
            )
        return CoachSettings(
            personality=Personality(row.personality),
            share_wellbeing_data=row.share_wellbeing_data,
            share_biomarkers=row.share_biomarkers,
        )

    async def update_settings(self, identity_id: uuid.UUID, update_: CoachSettingsUpdate) -> CoachSettings:
        await insert_ignore(
            self.session,
            CoachSettingsRow,
            {
                "identity_id": identity_id,
                "personality": str(Personality.MOTIVATIONAL),
                "share_wellbeing_data": False,
                "share_biomarkers": False,
                "updated_at": self.uow.now(),
            },
        )
        values: dict[str, Any] = {"updated_at": self.uow.now()}
        if update_.personality is not None:
            values["personality"] = str(update_.personality)
        if update_.share_wellbeing_data is not None:
            values["share_wellbeing_data"] = update_.share_wellbeing_data
        if update_.share_biomarkers is not None:
            values["share_biomarkers"] = update_.share_biomarkers
        await self.session.execute(
            update(CoachSettingsRow).where(CoachSettingsRow.identity_id == identity_id).values(**values)
        )
        self.session.expire_all()
        return await self.settings(identity_id)

    async def set_personality(self, identity_id: uuid.UUID, personality: Personality) -> PersonalityUpdated:
        await self.update_settings(identity_id, CoachSettingsUpdate(personality=personality))
        return PersonalityUpdated(personality=personality)

    # Daily quota (in the person's time zone) ------------------------------------------------------

    def daily_limit(self, principal: Principal) -> int:
        settings = self.uow.settings
        return settings.coach_daily_messages_premium if principal.has("premium") else settings.coach_daily_messages_free

    async def _local_day(self, identity_id: uuid.UUID) -> tuple[Any, ZoneInfo]:
        zone = ZoneInfo(await profile_service(self.uow).timezone_of(identity_id))
        return self.uow.now().astimezone(zone).date(), zone

    async def messages_today(self, identity_id: uuid.UUID) -> int:
        day, _ = await self._local_day(identity_id)
        used = await self.session.scalar(
            select(DailyUsageRow.messages).where(DailyUsageRow.identity_id == identity_id, DailyUsageRow.day == day)
        )
        return int(used or 0)

    async def consume_quota(self, principal: Principal) -> None:
        """Count one message against today's quota, or refuse with 429 and the seconds until the
        person's next local midnight. Race-free: the increment is conditional on the limit."""
        identity_id = principal.identity_id
        day, zone = await self._local_day(identity_id)
        limit = self.daily_limit(principal)
        await insert_ignore(self.session, DailyUsageRow, {"identity_id": identity_id, "day": day, "messages": 0})
        result = await self.session.execute(
            update(DailyUsageRow)
            .where(DailyUsageRow.identity_id == identity_id, DailyUsageRow.day == day, DailyUsageRow.messages < limit)
            .values(messages=DailyUsageRow.messages + 1)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            midnight = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
            retry = max(1, int((midnight - self.uow.now()).total_seconds()))
            raise CoachQuotaExceeded(
                f"You've sent your {limit} coach messages for today; the count starts again at midnight "
                "in your time zone.",
                headers={"Retry-After": str(retry)},
                extra={"limit": limit, "retry_after_seconds": retry},
            )

    # Screening ------------------------------------------------------------------------------------

    async def screen(
        self, principal: Principal, message: str, personality: Personality | None, endpoint: str
    ) -> Screened:
        """Safety first (emergencies are answered even past the quota), then the quota, then
        medical redirects and the person's fasting restrictions."""
        identity_id = principal.identity_id
        chosen = personality or (await self.settings(identity_id)).personality
        verdict = check_message(message)
        intent = detect_intent(message)
        if verdict is not None and verdict.category is SafetyCategory.EMERGENCY:
            preferences = await profile_service(self.uow).preferences_of(identity_id)
            lines = crisis_lines(preferences.language, preferences.timezone)
            await self._safety_event(identity_id, verdict.kind, endpoint)
            return Screened(chosen, intent, emergency_reply(verdict.kind, lines), True, verdict.kind)
        await self.consume_quota(principal)
        if verdict is not None:
            await self._safety_event(identity_id, verdict.kind, endpoint)
            reply = MEDICAL_REPLIES.get(verdict.kind, MEDICAL_REPLIES["diagnosis"])
            return Screened(chosen, intent, f"{reply}\n\n{MEDICAL_DISCLAIMER}", True, verdict.kind)
        if intent in FASTING_INTENTS:
            reasons = await PersonData(self.uow, identity_id).fasting_off_reasons()
            if reasons:
                await self._safety_event(identity_id, "fasting_off", endpoint)
                return Screened(
                    chosen, intent, FASTING_OFF_REPLY.format(reasons=", ".join(reasons)), True, "fasting_off"
                )
        return Screened(chosen, intent)

    async def _safety_event(self, identity_id: uuid.UUID, category: str, endpoint: str) -> None:
        self.session.add(
            SafetyEventRow(identity_id=identity_id, category=category, endpoint=endpoint, created_at=self.uow.now())
        )

    # The agent --------------------------------------------------------------------------------------

    def provider(self) -> ConfiguredModel | None:
        return configured_model(self.uow.settings)

    async def deps_for(
        self, identity_id: uuid.UUID, personality: Personality, *, third_party: bool, summary: str | None = None
    ) -> CoachDeps:
        settings = await self.settings(identity_id)
        data = PersonData(self.uow, identity_id)
        memories = (
            await self.session.scalars(
                select(MemoryRow.content)
                .where(MemoryRow.identity_id == identity_id, MemoryRow.is_active.is_(True))
                .order_by(MemoryRow.confidence.desc(), MemoryRow.extracted_at.desc())
                .limit(10)
            )
        ).all()
        return CoachDeps(
            data=data,
            personality=personality,
            third_party=third_party,
            share_wellbeing=settings.share_wellbeing_data,
            share_biomarkers=settings.share_biomarkers,
            fasting_off_reasons=await data.fasting_off_reasons(),
            memories=list(memories),
            summary=summary,
        )

    async def run_agent(
        self, identity_id: uuid.UUID, screened: Screened, message: str, history: list[ModelMessage], summary: str | None
    ) -> Answer:
        """A whole answer (for /chat): the configured model, or the offline coach when none is
        configured or the provider fails."""
        configured = self.provider()
        if configured is not None:
            deps = await self.deps_for(identity_id, screened.personality, third_party=True, summary=summary)
            try:
                result = await coach_agent.run(message, deps=deps, model=configured.model, message_history=history)
                text, flagged = finish_text(result.output, screened.intent)
                return Answer(text, screened.intent, flagged, deps.data, deps.tools_called)
            except Exception as exc:  # the provider failed: answer offline instead of failing
                logger.warning("coach model failed (%s); answering offline", type(exc).__name__)
        deps = await self.deps_for(identity_id, screened.personality, third_party=False, summary=summary)
        result = await coach_agent.run(
            message, deps=deps, model=offline_model(screened.personality), message_history=history
        )
        text, flagged = finish_text(result.output, screened.intent)
        return Answer(text, screened.intent, flagged, deps.data, deps.tools_called)

    async def chat(self, principal: Principal, request: ChatRequest) -> ChatResponse:
        screened = await self.screen(principal, request.message, request.personality, "chat")
        if screened.reply is not None:
            return ChatResponse(
                response=CoachResponse(message=screened.reply, suggestions=SAFETY_SUGGESTIONS),
                context_summary=None,
                quick_actions=list(QUICK_ACTIONS),
                safety_redirected=True,
            )
        answer = await self.run_agent(principal.identity_id, screened, request.message, [], None)
        recommendation: WorkoutSuggestion | None = None
        if answer.intent is Intent.WORKOUT:
            recs = await answer.data.recommendations()  # already read for the answer
            if recs:
                first = recs[0]
                recommendation = WorkoutSuggestion(
                    workout_id=first.workout.id,
                    name=first.workout.name,
                    duration_minutes=first.workout.duration_minutes,
                    difficulty=str(first.workout.difficulty),
                    reason=first.reason,
                )
        labels = [TOOL_LABELS.get(t, t) for t in dict.fromkeys(answer.tools)]
        return ChatResponse(
            response=CoachResponse(
                message=answer.text,
                suggestions=SUGGESTIONS[answer.intent],
                workout_recommendation=recommendation,
                encouragement=SIGN_OFFS[screened.personality],
            ),
            context_summary=("Based on your " + ", ".join(labels)) if labels else None,
            quick_actions=list(QUICK_ACTIONS),
            safety_redirected=answer.safety_redirected,
        )

    # Conversations -----------------------------------------------------------------------------------

    async def owned_conversation(
        self, identity_id: uuid.UUID, session_id: str, *, lock: bool = False
    ) -> ConversationRow:
        query = select(ConversationRow).where(
            ConversationRow.session_id == session_id, ConversationRow.identity_id == identity_id
        )
        if lock:
            query = query.with_for_update()
        row = (await self.session.execute(query)).scalar_one_or_none()
        if row is None:
            raise ConversationNotFound("Conversation not found")
        return row

    async def create_conversation(self, identity_id: uuid.UUID, first_message: str) -> ConversationRow:
        now = self.uow.now()
        row = ConversationRow(
            session_id=secrets.token_urlsafe(16),
            identity_id=identity_id,
            title=title_of(first_message),
            created_at=now,
            last_message_at=now,
            is_archived=False,
            message_count=0,
            memory_extracted_count=0,
        )
        self.session.add(row)
        await self.session.flush()
        return row

    async def add_message(
        self,
        conversation: ConversationRow,
        kind: MessageType,
        content: str,
        *,
        safety_redirected: bool = False,
        interrupted: bool = False,
    ) -> MessageRow:
        now = self.uow.now()
        row = MessageRow(
            session_id=conversation.session_id,
            identity_id=conversation.identity_id,
            type=str(kind),
            content=content,
            safety_redirected=safety_redirected,
            interrupted=interrupted,
            created_at=now,
        )
        self.session.add(row)
        conversation.message_count += 1
        conversation.last_message_at = now
        await self.session.flush()
        return row

    async def history_of(self, conversation: ConversationRow, *, before_id: int) -> list[ModelMessage]:
        """The messages the model sees: those after the summary, at most HISTORY_LIMIT, oldest first."""
        query = select(MessageRow.type, MessageRow.content).where(
            MessageRow.session_id == conversation.session_id, MessageRow.id < before_id
        )
        if conversation.summary_upto_id is not None:
            query = query.where(MessageRow.id > conversation.summary_upto_id)
        rows = (await self.session.execute(query.order_by(MessageRow.id.desc()).limit(HISTORY_LIMIT))).all()
        return history_messages([(r.type, r.content) for r in reversed(rows)])

    async def compact(self, conversation: ConversationRow) -> bool:
        """Once a conversation is long, older messages are folded into a summary and the last
        messages stay verbatim (the model sees the summary plus those). The summary written here
        is extractive (what the person asked about); with a provider, the model rewrites it after
        commit (see `summary.py`). True when this call compacted."""
        unsummarised = await self.session.scalar(
            select(func.count())
            .select_from(MessageRow)
            .where(
                MessageRow.session_id == conversation.session_id,
                MessageRow.id > (conversation.summary_upto_id or 0),
            )
        )
        if int(unsummarised or 0) < self.uow.settings.coach_compact_after_messages:
            return False
        rows = (
            await self.session.execute(
                select(MessageRow.id, MessageRow.type, MessageRow.content)
                .where(
                    MessageRow.session_id == conversation.session_id,
                    MessageRow.id > (conversation.summary_upto_id or 0),
                )
                .order_by(MessageRow.id)
            )
        ).all()
        keep = min(KEEP_VERBATIM, max(2, self.uow.settings.coach_compact_after_messages // 2))
        older = rows[:-keep]
        if not older:
            return False
        topics = [" ".join(r.content.split())[:80] for r in older if r.type == MessageType.HUMAN]
        summary = (conversation.summary + " " if conversation.summary else "") + (
            "The person asked about: " + "; ".join(topics) + "." if topics else ""
        )
        conversation.summary = summary.strip()[-SUMMARY_LIMIT:]
        conversation.summary_upto_id = older[-1].id
        return True

    async def remember(self, identity_id: uuid.UUID, session_id: str, message: str) -> int:
        """Rule-based memory extraction from one message of the person (offline)."""
        candidates = memory_rules.extract(message)
        if not candidates:
            return 0
        existing = (
            await self.session.execute(
                select(MemoryRow.category, MemoryRow.content).where(
                    MemoryRow.identity_id == identity_id, MemoryRow.is_active.is_(True)
                )
            )
        ).all()
        known = [(r.category, r.content) for r in existing]
        added = 0
        for candidate in candidates:
            if memory_rules.is_duplicate(candidate, known):
                continue
            self.session.add(
                MemoryRow(
                    identity_id=identity_id,
                    memory_type=str(candidate.memory_type),
                    category=str(candidate.category),
                    content=candidate.content[: memory_rules.MAX_CONTENT],
                    confidence=candidate.confidence,
                    source_session_id=session_id,
                    extracted_at=self.uow.now(),
                    is_active=True,
                )
            )
            known.append((str(candidate.category), candidate.content))
            added += 1
        return added

    def maybe_judge(self, message: MessageRow, configured: ConfiguredModel | None) -> None:
        """Sample an answer for LLM-as-judge scoring, after commit (only with a provider)."""
        if configured is None or len(message.content) < JUDGE_MIN_CHARS:
            return
        rate = self.uow.settings.coach_judge_sample_rate
        if rate <= 0 or secrets.randbelow(1_000_000) >= int(rate * 1_000_000):
            return
        self.uow.enqueue(JUDGE_TOPIC, {"message_id": message.id}, identity_id=message.identity_id)

    async def list_conversations(
        self, identity_id: uuid.UUID, *, limit: int, offset: int, include_archived: bool
    ) -> ConversationList:
        where = [ConversationRow.identity_id == identity_id]
        if not include_archived:
            where.append(ConversationRow.is_archived.is_(False))
        total = int(await self.session.scalar(select(func.count()).select_from(ConversationRow).where(*where)) or 0)
        rows = (
            await self.session.scalars(
                select(ConversationRow)
                .where(*where)
                .order_by(ConversationRow.last_message_at.desc(), ConversationRow.session_id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
        return ConversationList(
            conversations=[Conversation.model_validate(r) for r in rows],
            total=total,
            has_more=offset + len(rows) < total,
        )

    async def messages(
        self, identity_id: uuid.UUID, session_id: str, *, limit: int, offset: int
    ) -> list[ConversationMessage]:
        rows = (
            await self.session.scalars(
                select(MessageRow)
                .where(MessageRow.session_id == session_id, MessageRow.identity_id == identity_id)
                .order_by(MessageRow.id)
                .limit(limit)
                .offset(offset)
            )
        ).all()
        return [
            ConversationMessage(
                id=r.id,
                type=MessageType(r.type),
                content=r.content,
                created_at=r.created_at,
                safety_redirected=r.safety_redirected,
                interrupted=r.interrupted,
            )
            for r in rows
        ]

    async def update_conversation(
        self, identity_id: uuid.UUID, session_id: str, body: ConversationUpdate
    ) -> Conversation:
        row = await self.owned_conversation(identity_id, session_id, lock=True)
        if body.title is not None:
            row.title = body.title
        if body.is_archived is not None:
            row.is_archived = body.is_archived
        await self.session.flush()
        return Conversation.model_validate(row)

    async def delete_conversation(self, identity_id: uuid.UUID, session_id: str) -> None:
        row = await self.owned_conversation(identity_id, session_id)
        await self.session.execute(delete(MessageRow).where(MessageRow.session_id == row.session_id))
        await self.session.execute(delete(ConversationRow).where(ConversationRow.session_id == row.session_id))

    # Memories -------------------------------------------------------------------------------------------

    async def memories(self, identity_id: uuid.UUID) -> list[Memory]:
        rows = (
            await self.session.scalars(
                select(MemoryRow)
                .where(MemoryRow.identity_id == identity_id, MemoryRow.is_active.is_(True))
                .order_by(MemoryRow.extracted_at.desc(), MemoryRow.id)
            )
        ).all()
        return [
            Memory(
                id=r.id,
                memory_type=MemoryType(r.memory_type),
                category=MemoryCategory(r.category),
                content=r.content,
                confidence=r.confidence,
                source_session_id=r.source_session_id,
                extracted_at=r.extracted_at,
            )
            for r in rows
        ]

    async def delete_memory(self, identity_id: uuid.UUID, memory_id: uuid.UUID) -> None:
        result = await self.session.execute(
            delete(MemoryRow).where(MemoryRow.id == memory_id, MemoryRow.identity_id == identity_id)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise MemoryNotFound("Memory not found")

    async def delete_memories(self, identity_id: uuid.UUID) -> int:
        result = await self.session.execute(delete(MemoryRow).where(MemoryRow.identity_id == identity_id))
        return int(result.rowcount)  # type: ignore[attr-defined]

    # Export -------------------------------------------------------------------------------------------------

    async def export(self, identity_id: uuid.UUID) -> CoachExport:
        conversations = (
            await self.session.scalars(
                select(ConversationRow)
                .where(ConversationRow.identity_id == identity_id)
                .order_by(ConversationRow.created_at, ConversationRow.session_id)
            )
        ).all()
        messages = (
            await self.session.scalars(
                select(MessageRow).where(MessageRow.identity_id == identity_id).order_by(MessageRow.id)
            )
        ).all()
        by_session: dict[str, list[ExportedMessage]] = {}
        for m in messages:
            by_session.setdefault(m.session_id, []).append(
                ExportedMessage(type=MessageType(m.type), content=m.content, created_at=m.created_at)
            )
        return CoachExport(
            conversations=[
                ExportedConversation(
                    session_id=c.session_id,
                    title=c.title,
                    created_at=c.created_at,
                    last_message_at=c.last_message_at,
                    is_archived=c.is_archived,
                    summary=c.summary,
                    messages=by_session.get(c.session_id, []),
                )
                for c in conversations
            ],
            memories=await self.memories(identity_id),
            settings=await self.settings(identity_id),
            exported_at=self.uow.now(),
        )

    def model_for_stream(self, personality: Personality) -> tuple[Model, bool, ConfiguredModel | None]:
        configured = self.provider()
        if configured is not None:
            return configured.model, True, configured
        return offline_model(personality), False, None


@dataclass
class StreamPlan:
    """What the request decided before the response starts streaming."""

    identity_id: uuid.UUID
    message: str
    personality: Personality
    intent: Intent
    session_id: str | None = None
    title: str | None = None
    is_new: bool = False
    error: str | None = None
    error_text: str | None = None
    fixed_reply: str | None = None
    history: list[ModelMessage] = field(default_factory=list)
    summary: str | None = None


async def open_stream(
    uow: UnitOfWork, principal: Principal, message: str, personality: Personality | None, session_id: str | None
) -> StreamPlan:
    """Checks, quota, the conversation and the person's message, committed before streaming."""
    service = CoachService(uow)
    identity_id = principal.identity_id
    conversation: ConversationRow | None = None
    if session_id is not None:
        try:
            conversation = await service.owned_conversation(identity_id, session_id, lock=True)
        except ConversationNotFound:
            verdict = check_message(message)
            text = "Conversation not found."
            if verdict is not None and verdict.category is SafetyCategory.EMERGENCY:
                preferences = await profile_service(uow).preferences_of(identity_id)
                text = emergency_reply(verdict.kind, crisis_lines(preferences.language, preferences.timezone))
            return StreamPlan(
                identity_id,
                message,
                Personality.MOTIVATIONAL,
                Intent.GENERAL,
                error="conversation_not_found",
                error_text=text,
            )
    screened = await service.screen(principal, message, personality, "stream")
    is_new = conversation is None
    if conversation is None:
        conversation = await service.create_conversation(identity_id, message)
    human = await service.add_message(conversation, MessageType.HUMAN, message)
    plan = StreamPlan(
        identity_id,
        message,
        screened.personality,
        screened.intent,
        session_id=conversation.session_id,
        title=conversation.title,
        is_new=is_new,
    )
    if screened.reply is not None:
        await service.add_message(conversation, MessageType.AI, screened.reply, safety_redirected=True)
        plan.fixed_reply = screened.reply
        return plan
    if service.provider() is None and screened.category is None:
        await service.remember(identity_id, conversation.session_id, message)
    plan.history = await service.history_of(conversation, before_id=human.id)
    plan.summary = conversation.summary
    return plan
