"""Request and response models of the coach (field names as the mobile app reads them)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from src.core.validation import RequestBody, StorableText


class Personality(StrEnum):
    MOTIVATIONAL = "motivational"
    CALM = "calm"
    TOUGH = "tough"
    FRIENDLY = "friendly"


class MessageType(StrEnum):
    HUMAN = "human"
    AI = "ai"


class MemoryType(StrEnum):
    FACT = "fact"
    PREFERENCE = "preference"
    GOAL = "goal"
    CONSTRAINT = "constraint"


class MemoryCategory(StrEnum):
    INJURY = "injury"
    MEDICAL = "medical"
    PHYSICAL_LIMITATION = "physical_limitation"
    SCHEDULE = "schedule"
    AVAILABILITY = "availability"
    EQUIPMENT = "equipment"
    LOCATION = "location"
    FITNESS_LEVEL = "fitness_level"
    EXPERIENCE = "experience"
    WORKOUT_PREFERENCE = "workout_preference"
    FOOD_PREFERENCE = "food_preference"
    COACHING_STYLE = "coaching_style"
    WEIGHT_GOAL = "weight_goal"
    FITNESS_GOAL = "fitness_goal"
    HEALTH_GOAL = "health_goal"
    WORK = "work"
    SLEEP = "sleep"
    STRESS = "stress"
    GENERAL = "general"


MessageText = StorableText


# Chat -----------------------------------------------------------------------------------------


class ChatRequest(RequestBody):
    message: MessageText = Field(min_length=1, max_length=10_000)
    personality: Personality | None = None


class StreamRequest(ChatRequest):
    session_id: str | None = Field(
        default=None, max_length=100, description="Continue this conversation; omitted: start a new one"
    )


class QuickAction(BaseModel):
    label: str
    action: str
    params: dict[str, Any] = Field(default_factory=dict)


class WorkoutSuggestion(BaseModel):
    workout_id: UUID
    name: str
    duration_minutes: int
    difficulty: str
    reason: str


class CoachResponse(BaseModel):
    message: str
    suggestions: list[str] = Field(default_factory=list)
    workout_recommendation: WorkoutSuggestion | None = None
    encouragement: str | None = None


class ChatResponse(BaseModel):
    response: CoachResponse
    context_summary: str | None = Field(default=None, description="One line of the figures the answer drew on")
    quick_actions: list[QuickAction]
    safety_redirected: bool = Field(
        description="True when the message was redirected (emergency, medical) or the reply carries the medical "
        "disclaimer"
    )


class StreamChunk(BaseModel):
    """One server-sent event of `/coach/stream` (`data: <this JSON>`)."""

    text: str = Field(description="A delta: the texts of a stream concatenate to the stored reply")
    session_id: str | None = None
    conversation_title: str | None = None
    complete: bool = False
    error: str | None = None
    safety_redirected: bool | None = Field(default=None, description="On the final chunk")


# Context, insight, motivation, personality ----------------------------------------------------


class ActiveFastSummary(BaseModel):
    protocol: str | None
    elapsed_hours: float
    target_hours: float | None
    remaining_hours: float | None
    progress_percent: float | None
    stage: str | None
    next_stage: str | None
    next_stage_in_hours: float | None


class UserContext(BaseModel):
    level: int
    title: str
    total_xp: int
    xp_to_next_level: int
    streaks: dict[str, int]
    longest_streaks: dict[str, int]
    active_fast: ActiveFastSummary | None
    fasts_last_7_days: int
    average_fast_hours_last_7_days: float | None
    total_workouts: int
    workouts_this_week: int
    weight_kg: float | None
    weight_change_30_days_kg: float | None
    target_weight_kg: float | None
    personality: Personality
    local_date: str
    local_time: str
    timezone: str
    messages_today: int
    daily_message_limit: int


class CoachingInsight(BaseModel):
    title: str
    content: str
    category: str
    priority: int = Field(ge=1, le=5, description="1 = most relevant")


class Motivation(BaseModel):
    message: str
    personality: Personality


class PersonalityUpdated(BaseModel):
    status: str = "ok"
    personality: Personality


class CoachSettings(BaseModel):
    personality: Personality
    share_wellbeing_data: bool = Field(
        description="May a third-party language model see weight, sleep, recovery, diet and memories"
    )
    share_biomarkers: bool = Field(description="May a third-party language model see lab results")


class CoachSettingsUpdate(RequestBody):
    personality: Personality | None = None
    share_wellbeing_data: bool | None = None
    share_biomarkers: bool | None = None


# Conversations --------------------------------------------------------------------------------


class Conversation(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    session_id: str
    title: str
    created_at: AwareDatetime
    last_message_at: AwareDatetime
    is_archived: bool
    message_count: int


class ConversationList(BaseModel):
    conversations: list[Conversation]
    total: int
    has_more: bool


class ConversationMessage(BaseModel):
    id: int
    type: MessageType
    content: str
    created_at: AwareDatetime
    safety_redirected: bool = False
    interrupted: bool = Field(default=False, description="The stream was cut off; this is what was sent")


class ConversationUpdate(RequestBody):
    title: MessageText | None = Field(default=None, min_length=1, max_length=255)
    is_archived: bool | None = None


class ExportedMessage(BaseModel):
    type: MessageType
    content: str
    created_at: AwareDatetime


class ExportedConversation(BaseModel):
    session_id: str
    title: str
    created_at: AwareDatetime
    last_message_at: AwareDatetime
    is_archived: bool
    summary: str | None = None
    messages: list[ExportedMessage]


class Memory(BaseModel):
    id: UUID
    memory_type: MemoryType
    category: MemoryCategory
    content: str
    confidence: float
    source_session_id: str | None
    extracted_at: AwareDatetime


class CoachExport(BaseModel):
    conversations: list[ExportedConversation]
    memories: list[Memory] = Field(default_factory=list)
    settings: CoachSettings | None = None
    exported_at: AwareDatetime


class MemoriesDeleted(BaseModel):
    deleted: int
