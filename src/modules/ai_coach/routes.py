from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Body, Query, Request
from pydantic import BaseModel

from src.core.errors import UnprocessableEntity, problem_schema
from src.core.rate_limit import limits
from src.core.routing import ModuleRouter
from src.core.validation import RequestBody
from src.dependencies import CurrentIdentity, UoWDep, WritingUoWDep

from .insights import insight, motivation, user_context
from .models import (
    ChatRequest,
    ChatResponse,
    CoachExport,
    CoachingInsight,
    CoachSettings,
    CoachSettingsUpdate,
    Conversation,
    ConversationList,
    ConversationMessage,
    ConversationUpdate,
    MemoriesDeleted,
    Memory,
    Motivation,
    Personality,
    PersonalityUpdated,
    StreamRequest,
    UserContext,
)
from .service import CoachService, open_stream
from .streaming import EventStreamResponse, event_stream

router = ModuleRouter(prefix="/coach", tags=["coach"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: problem_schema() for code in (401, 404, 422, 429)}

STREAM_DESCRIPTION = (
    "Server-sent events on the default `message` event; each `data:` line is a JSON `StreamChunk`: "
    "`text` is a delta (the deltas concatenate to the stored reply), the first chunk of a new conversation "
    "carries `session_id` and `conversation_title`, the last has `complete: true` and `safety_redirected`. "
    'An unknown or foreign `session_id` gives one chunk with `error: "conversation_not_found"`. Emergencies '
    "are answered with crisis guidance and emergency numbers without calling the model; medical questions are "
    "redirected to a clinician. Counts toward the daily message quota (free 10, premium 50 per local day; 429 "
    "with `Retry-After` past it). If the client disconnects, generation stops and what was sent is stored."
)


@router.post(
    "/chat",
    response_model=ChatResponse,
    summary="Ask the coach (one message, no history kept)",
    description=(
        "Grounded in the person's own data (active fast, fasting history, streak counts, level, workout stats, "
        "weight, lab results, recovery, diet). Emergencies get crisis guidance with emergency numbers and the "
        "model is not called; medical questions are redirected. `safety_redirected` is true when the reply "
        "was redirected or carries the medical disclaimer. Counts toward the daily message quota (429 with "
        "`Retry-After` past it)."
    ),
    responses=_ERRORS,
    openapi_extra=limits("AI_CHAT"),
)
async def chat(uow: UoWDep, me: CurrentIdentity, body: ChatRequest) -> ChatResponse:
    return await CoachService(uow).chat(me, body)


async def _stream(request: Request, uow: UoWDep, me: CurrentIdentity, body: StreamRequest) -> EventStreamResponse:
    plan = await open_stream(uow, me, body.message, body.personality, body.session_id)
    return EventStreamResponse(
        event_stream(request.app.state.sessions, uow.resources, plan),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


_STREAM_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}, "description": "Server-sent events"},
    **_ERRORS,
}

router.add_api_route(
    "/stream",
    _stream,
    methods=["POST"],
    response_class=EventStreamResponse,
    summary="Talk to the coach in a conversation, streamed as server-sent events",
    description=STREAM_DESCRIPTION,
    responses=_STREAM_RESPONSES,
    openapi_extra=limits("AI_CHAT"),
    name="coach_stream",
)
router.add_api_route(
    "/chat/stream",
    _stream,
    methods=["POST"],
    response_class=EventStreamResponse,
    summary="The same as POST /coach/stream",
    description=STREAM_DESCRIPTION,
    responses=_STREAM_RESPONSES,
    openapi_extra=limits("AI_CHAT"),
    name="coach_chat_stream",
)


@router.get(
    "/context",
    response_model=UserContext,
    summary="The figures the coach sees: level, streaks, active fast, workouts, weight, quota",
    description="Reading weight is a read of health data and is recorded in the person's journal.",
)
async def context(uow: WritingUoWDep, me: CurrentIdentity) -> UserContext:
    return await user_context(uow, me)


@router.get(
    "/insight",
    response_model=CoachingInsight,
    summary="Today's most relevant observation from the person's data",
    description="An upcoming fasting stage, a streak at risk, this week's fasts or workouts, the weight trend; "
    "a general tip when there is no data yet.",
    openapi_extra=limits("AI_INSIGHT"),
)
async def get_insight(uow: WritingUoWDep, me: CurrentIdentity) -> CoachingInsight:
    return await insight(uow, me.identity_id)


@router.get("/motivation", response_model=Motivation, summary="A motivational line in the coach's personality")
async def get_motivation(
    uow: UoWDep,
    me: CurrentIdentity,
    context: Annotated[str | None, Query(max_length=200)] = None,
    personality: Personality | None = None,
) -> Motivation:
    chosen = personality or (await CoachService(uow).settings(me.identity_id)).personality
    return await motivation(uow, me.identity_id, context, chosen)


class PersonalityBody(RequestBody):
    personality: Personality


@router.put(
    "/personality",
    response_model=PersonalityUpdated,
    summary="Set the coach's personality",
    description='Send the value as a bare JSON string body (`"friendly"`), as `{"personality": ...}`, or as '
    "the `personality` query parameter.",
    responses=_ERRORS,
)
async def set_personality(
    uow: UoWDep,
    me: CurrentIdentity,
    personality: Annotated[Personality | None, Query()] = None,
    body: Annotated[Personality | PersonalityBody | None, Body()] = None,
) -> PersonalityUpdated:
    chosen = personality or (body.personality if isinstance(body, PersonalityBody) else body)
    if chosen is None:
        raise UnprocessableEntity("Send the personality in the body or as the `personality` query parameter")
    return await CoachService(uow).set_personality(me.identity_id, chosen)


@router.get("/settings", response_model=CoachSettings, summary="Personality and what the coach may share")
async def get_settings(uow: UoWDep, me: CurrentIdentity) -> CoachSettings:
    return await CoachService(uow).settings(me.identity_id)


@router.put(
    "/settings",
    response_model=CoachSettings,
    summary="Change personality and consent to share health data with a third-party language model",
    description="`share_wellbeing_data` (weight, sleep, recovery, diet, memories) and `share_biomarkers` (lab "
    "results) are off by default; they matter only when the coach runs on an external provider.",
)
async def put_settings(uow: UoWDep, me: CurrentIdentity, body: CoachSettingsUpdate) -> CoachSettings:
    return await CoachService(uow).update_settings(me.identity_id, body)


@router.get("/conversations", response_model=ConversationList, summary="Conversations, newest message first")
async def list_conversations(
    uow: UoWDep,
    me: CurrentIdentity,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    include_archived: bool = False,
) -> ConversationList:
    return await CoachService(uow).list_conversations(
        me.identity_id, limit=limit, offset=offset, include_archived=include_archived
    )


@router.get(
    "/conversations/{session_id}/messages",
    response_model=list[ConversationMessage],
    summary="Messages of a conversation, oldest first",
    responses=_ERRORS,
)
async def conversation_messages(
    uow: UoWDep,
    me: CurrentIdentity,
    session_id: str,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> list[ConversationMessage]:
    service = CoachService(uow)
    await service.owned_conversation(me.identity_id, session_id)
    return await service.messages(me.identity_id, session_id, limit=limit, offset=offset)


@router.patch(
    "/conversations/{session_id}",
    response_model=Conversation,
    summary="Rename or archive a conversation",
    responses=_ERRORS,
)
async def update_conversation(
    uow: UoWDep, me: CurrentIdentity, session_id: str, body: ConversationUpdate
) -> Conversation:
    return await CoachService(uow).update_conversation(me.identity_id, session_id, body)


class Deleted(BaseModel):
    status: str = "deleted"
    session_id: str


@router.delete(
    "/conversations/{session_id}",
    response_model=Deleted,
    summary="Delete a conversation and its messages",
    responses=_ERRORS,
)
async def delete_conversation(uow: UoWDep, me: CurrentIdentity, session_id: str) -> Deleted:
    await CoachService(uow).delete_conversation(me.identity_id, session_id)
    return Deleted(session_id=session_id)


@router.get(
    "/export",
    response_model=CoachExport,
    summary="Everything the coach holds about the caller: conversations, memories, settings",
)
async def export(uow: UoWDep, me: CurrentIdentity) -> CoachExport:
    return await CoachService(uow).export(me.identity_id)


@router.get("/memories", response_model=list[Memory], summary="What the coach remembers about the caller")
async def memories(uow: UoWDep, me: CurrentIdentity) -> list[Memory]:
    return await CoachService(uow).memories(me.identity_id)


@router.delete("/memories", response_model=MemoriesDeleted, summary="Forget everything the coach remembers")
async def delete_memories(uow: UoWDep, me: CurrentIdentity) -> MemoriesDeleted:
    return MemoriesDeleted(deleted=await CoachService(uow).delete_memories(me.identity_id))


@router.delete("/memories/{memory_id}", response_model=MemoriesDeleted, summary="Forget one memory", responses=_ERRORS)
async def delete_memory(uow: UoWDep, me: CurrentIdentity, memory_id: UUID) -> MemoriesDeleted:
    await CoachService(uow).delete_memory(me.identity_id, memory_id)
    return MemoriesDeleted(deleted=1)
