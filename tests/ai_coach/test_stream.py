"""The SSE contract the app parses: deltas that concatenate to the stored reply, the session id
and title on the first chunk, `complete` on the last, `conversation_not_found`, and a client
that disconnects mid-stream."""

from __future__ import annotations

import contextlib
import json
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.requests import ClientDisconnect

from src.core.clock import FrozenClock
from tests.ai_coach.helpers import CONVERSATIONS, STREAM, events, ok, person_with_history, stream
from tests.factories import anonymous_user


async def test_deltas_concatenate_to_the_stored_reply_and_the_first_chunk_names_the_conversation(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    person = await person_with_history(app, client, clock)
    user = person.user
    chunks = await stream(client, user, "How is my fast going?")
    assert len(chunks) > 3  # streamed in pieces
    first, last = chunks[0], chunks[-1]
    session_id = first["session_id"]
    assert first["conversation_title"] == "How is my fast going?"
    assert all("session_id" not in c for c in chunks[1:])
    assert last == {"text": "", "complete": True, "safety_redirected": False}
    assert all(c["complete"] is False for c in chunks[:-1])
    reply = "".join(c["text"] for c in chunks)
    assert "13 h 20 min into your 16:8 fast" in reply
    assert user.id not in session_id
    assert uuid.UUID(user.id).hex not in session_id

    messages = ok(await client.get(f"{CONVERSATIONS}/{session_id}/messages", headers=user.headers))
    assert [(m["type"], m["content"]) for m in messages] == [("human", "How is my fast going?"), ("ai", reply)]

    follow_up = await stream(client, user, "and which workout today?", session_id=session_id)
    assert "session_id" not in follow_up[0]
    listed = ok(await client.get(CONVERSATIONS, headers=user.headers))
    assert listed["total"] == 1
    assert listed["conversations"][0]["message_count"] == 4


async def test_chat_stream_path_is_the_same_stream(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    chunks = events(
        await client.post(f"{STREAM.rsplit('/', 1)[0]}/chat/stream", headers=user.headers, json={"message": "hi"})
    )
    assert chunks[0]["session_id"]
    assert chunks[-1]["complete"] is True


async def test_a_long_title_is_cut_at_50_characters(app: FastAPI, client: httpx.AsyncClient) -> None:
    user = await anonymous_user(app)
    message = "Tell me everything about how my workouts went this week and last week please"
    chunks = await stream(client, user, message)
    assert chunks[0]["conversation_title"] == message[:50] + "..."


async def test_someone_elses_session_is_conversation_not_found(app: FastAPI, client: httpx.AsyncClient) -> None:
    owner, other = await anonymous_user(app), await anonymous_user(app)
    session_id = (await stream(client, owner, "hello"))[0]["session_id"]
    for candidate in (session_id, "no-such-session"):
        chunks = await stream(client, other, "hello", session_id=candidate)
        assert len(chunks) == 1
        assert chunks[0]["error"] == "conversation_not_found"
        assert chunks[0]["complete"] is True
    messages = ok(await client.get(f"{CONVERSATIONS}/{session_id}/messages", headers=owner.headers))
    assert len(messages) == 2  # nothing added to the owner's conversation


async def _stream_and_disconnect(
    app: FastAPI, user_headers: dict[str, str], body: dict[str, Any], after: int
) -> list[dict[str, Any]]:
    """Drive the ASGI app directly and drop the connection after `after` body chunks (the app then
    sees its `send` fail, as when a phone loses the network)."""
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in user_headers.items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": STREAM,
        "raw_path": STREAM.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("10.9.9.9", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    received: list[dict[str, Any]] = []
    sent_request = False

    async def receive() -> dict[str, Any]:
        nonlocal sent_request
        if not sent_request:
            sent_request = True
            return {"type": "http.request", "body": payload, "more_body": False}
        import anyio

        await anyio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            if len(received) >= after:
                raise OSError("client went away")
            for block in message["body"].decode().split("\n\n"):
                if block.strip():
                    received.append(json.loads(block[len("data: ") :]))

    with contextlib.suppress(OSError, ClientDisconnect):
        await app(scope, receive, send)
    return received


async def test_a_disconnect_mid_stream_stores_what_was_sent(
    app: FastAPI, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    person = await person_with_history(app, client, clock)
    user = person.user
    received = await _stream_and_disconnect(app, user.headers, {"message": "How is my fast going?"}, after=3)
    assert len(received) == 3
    session_id = received[0]["session_id"]
    messages = ok(await client.get(f"{CONVERSATIONS}/{session_id}/messages", headers=user.headers))
    assert [m["type"] for m in messages] == ["human", "ai"]
    stored = messages[1]
    assert stored["interrupted"] is True
    assert stored["content"] == "".join(c["text"] for c in received)  # exactly what the client got
    assert stored["content"] == "You are 13 "  # three word deltas, the rest never generated
    # The conversation goes on normally afterwards.
    chunks = await stream(client, user, "and my streaks?", session_id=session_id)
    assert chunks[-1]["complete"] is True
    assert len(ok(await client.get(f"{CONVERSATIONS}/{session_id}/messages", headers=user.headers))) == 4


async def test_an_emergency_sent_to_an_unknown_session_still_gets_crisis_guidance(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    user = await anonymous_user(app)
    chunks = await stream(client, user, "I want to die", session_id="gone")
    assert len(chunks) == 1
    assert chunks[0]["error"] == "conversation_not_found"
    assert "112" in chunks[0]["text"]
