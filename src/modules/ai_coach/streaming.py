"""The `/coach/stream` response body: server-sent events of `StreamChunk`s.

The request has already committed the person's message (see `open_stream`). Here the agent runs in
a unit of work of its own; every text delta is sent as it comes, and the reply that is stored is
exactly the concatenation of the deltas sent. When the client goes away mid-stream, generation
stops and what was sent is stored (marked interrupted), so the conversation stays consistent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import anyio
from pydantic_ai.models import Model
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import StreamingResponse
from starlette.types import Send

from src.core.uow import Resources, UnitOfWork
from src.database import SessionFactory

from .extraction import MEMORY_TOPIC, extraction_due
from .models import MessageType, StreamChunk
from .offline import offline_model
from .service import CoachService, StreamPlan, finish_text
from .summary import SUMMARY_TOPIC
from .tools import CoachDeps, coach_agent

logger = logging.getLogger("ugoki.ai_coach")


class EventStreamResponse(StreamingResponse):
    """A streaming response that always closes its body iterator, also when the client went away,
    so the generator's clean-up (storing what was sent, releasing the database) runs at once."""

    media_type = "text/event-stream"

    async def stream_response(self, send: Send) -> None:
        try:
            await super().stream_response(send)
        finally:
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await close()


def sse(chunk: StreamChunk) -> str:
    return f"data: {chunk.model_dump_json(exclude_none=True)}\n\n"


async def event_stream(sessions: SessionFactory, resources: Resources, plan: StreamPlan) -> AsyncIterator[str]:
    if plan.error is not None:
        yield sse(StreamChunk(text=plan.error_text or "", complete=True, error=plan.error))
        return
    meta: dict[str, str | None] = (
        {"session_id": plan.session_id, "conversation_title": plan.title} if plan.is_new else {}
    )

    def chunk(text: str, **extra: object) -> str:
        nonlocal meta
        out = StreamChunk(text=text, **meta, **extra)  # type: ignore[arg-type]
        meta = {}
        return sse(out)

    if plan.fixed_reply is not None:
        yield chunk(plan.fixed_reply)
        yield chunk("", complete=True, safety_redirected=True)
        return

    sent: list[str] = []
    session = sessions.writer()
    uow = UnitOfWork(session=session, resources=resources)
    service = CoachService(uow)
    finished = False
    try:
        model, third_party, configured = service.model_for_stream(plan.personality)
        deps = await service.deps_for(plan.identity_id, plan.personality, third_party=third_party, summary=plan.summary)
        try:
            async for delta in _deltas(model, deps, plan):
                yield chunk(delta)
                sent.append(delta)  # only once the client took it
        except Exception as exc:
            if not third_party:
                raise
            logger.warning("coach model failed while streaming (%s)", type(exc).__name__)
            if not sent:  # nothing was said yet: the offline coach answers instead
                configured = None
                deps = await service.deps_for(
                    plan.identity_id, plan.personality, third_party=False, summary=plan.summary
                )
                async for delta in _deltas(offline_model(plan.personality), deps, plan):
                    yield chunk(delta)
                    sent.append(delta)
            else:
                note = "\n\n(The coach was interrupted. Please ask again.)"
                yield chunk(note)
                sent.append(note)
        text = "".join(sent)
        final_text, flagged = finish_text(text, plan.intent)
        if len(final_text) > len(text):
            extra = final_text[len(text) :]
            yield chunk(extra)
            sent.append(extra)
        conversation = await service.owned_conversation(plan.identity_id, plan.session_id or "", lock=True)
        stored = await service.add_message(conversation, MessageType.AI, "".join(sent), safety_redirected=flagged)
        compacted = await service.compact(conversation)
        if compacted and configured is not None:
            uow.enqueue(
                SUMMARY_TOPIC,
                {"session_id": conversation.session_id, "upto_id": conversation.summary_upto_id},
                identity_id=plan.identity_id,
            )
        service.maybe_judge(stored, configured)
        if configured is not None and extraction_due(conversation):
            conversation.memory_extracted_count = conversation.message_count
            uow.enqueue(MEMORY_TOPIC, {"session_id": conversation.session_id}, identity_id=plan.identity_id)
        await session.commit()
        finished = True
        if uow.enqueued and resources.outbox is not None:
            resources.outbox.notify()
        yield chunk("", complete=True, safety_redirected=flagged)
    except Exception:  # a failure of ours: the client still gets a last chunk, what was sent is kept
        logger.exception("coach stream failed")
        yield chunk("", complete=True, error="coach_unavailable")
    finally:
        with anyio.CancelScope(shield=True):
            if not finished:
                await session.rollback()
                if sent and plan.session_id is not None:
                    await _store_interrupted(session, resources, plan, "".join(sent))
            await session.close()


async def _deltas(model: Model, deps: CoachDeps, plan: StreamPlan) -> AsyncIterator[str]:
    """The model's text deltas. The run happens in a task of its own that hands deltas over a
    bounded channel, so that a client going away (the response body is closed from another task)
    cancels the run cleanly instead of tearing through its open scopes."""
    sender, receiver = anyio.create_memory_object_stream[str](max_buffer_size=64)

    async def produce() -> None:
        async with sender:
            async with coach_agent.run_stream(
                plan.message, deps=deps, model=model, message_history=plan.history
            ) as run:
                async for delta in run.stream_text(delta=True, debounce_by=None):
                    if delta:
                        await sender.send(delta)

    task = asyncio.get_running_loop().create_task(produce())
    try:
        async with receiver:
            async for delta in receiver:
                yield delta
        await task
    finally:
        if not task.done():
            task.cancel()
            with anyio.CancelScope(shield=True):
                await asyncio.gather(task, return_exceptions=True)


async def _store_interrupted(session: AsyncSession, resources: Resources, plan: StreamPlan, text: str) -> None:
    """The client left (or the run failed) after part of the reply was sent: keep that part."""
    uow = UnitOfWork(session=session, resources=resources)
    service = CoachService(uow)
    try:
        conversation = await service.owned_conversation(plan.identity_id, plan.session_id or "", lock=True)
        await service.add_message(conversation, MessageType.AI, text, interrupted=True)
        await session.commit()
    except Exception:  # the conversation was deleted meanwhile, or the database is gone
        logger.warning("could not store an interrupted coach reply")
        await session.rollback()
