"""A local stand-in for an OpenAI-compatible chat-completions API (`POST /v1/chat/completions`),
as served by OpenAI, Ollama, Groq or vLLM, and for the Anthropic Messages API (`POST /v1/messages`):
a small ASGI app run by uvicorn on a free port.

It checks the bearer key, records every request, and answers in the real shapes, streamed
(`text/event-stream` chunks ending with `data: [DONE]`) or not. Its "model" first calls the tool
named in `tool_to_call` (when the request offers tools and no tool result came back yet), then
answers with a text quoting the tool's result; a judge request (a `final_result` output tool)
gets scores. Tests can make it fail with `status`.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

API_KEY = "test-openai-key"
MODEL = "fake-coach-model"


@dataclass
class FakeOpenAI:
    base_url: str = ""
    tool_to_call: str = "get_active_fast"
    status: int = 200
    answer: str | None = None  # said instead of quoting the tool's result
    requests: list[dict[str, Any]] = field(default_factory=list)
    _server: uvicorn.Server | None = None
    _thread: threading.Thread | None = None

    def reset(self) -> None:
        self.tool_to_call = "get_active_fast"
        self.status = 200
        self.answer = None
        self.requests.clear()

    def anthropic_settings(self, **overrides: object) -> dict[str, object]:
        values: dict[str, object] = {
            "llm_provider": "anthropic",
            "anthropic_api_key": API_KEY,
            "llm_base_url": self.base_url.removesuffix("/v1"),
            "llm_model": "claude-fake",
            "llm_timeout_seconds": 5.0,
            "coach_judge_sample_rate": 0.0,  # sampled at random: tests that judge ask for 1.0
        }
        values.update(overrides)
        return values

    def settings(self, **overrides: object) -> dict[str, object]:
        values: dict[str, object] = {
            "llm_provider": "openai",
            "openai_api_key": API_KEY,
            "openai_base_url": self.base_url,
            "openai_model": MODEL,
            "llm_timeout_seconds": 5.0,
            "coach_judge_sample_rate": 0.0,  # sampled at random: tests that judge ask for 1.0
        }
        values.update(overrides)
        return values

    # The model ------------------------------------------------------------------------------------

    def _reply(self, body: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
        """(text, tool calls) for a request."""
        tools = {t["function"]["name"] for t in body.get("tools", [])}
        tool_results = [m for m in body["messages"] if m["role"] == "tool"]
        instructions = " ".join(str(m["content"]) for m in body["messages"] if m["role"] == "system")
        if "final_result" in tools and "lasting facts" in instructions:
            memories = [
                {
                    "memory_type": "constraint",
                    "category": "injury",
                    "content": "Has a sore left knee",
                    "confidence": 0.9,
                },
                {"memory_type": "fact", "category": "work", "content": "Maybe likes tea", "confidence": 0.4},
            ]
            return None, [
                {"id": "call_memories", "name": "final_result", "arguments": json.dumps({"response": memories})}
            ]
        if "final_result" in tools:
            scores = {"helpfulness": 4, "safety": 5, "personalization": 4, "accuracy": 4, "reasoning": "Uses the data."}
            return None, [{"id": "call_judge", "name": "final_result", "arguments": json.dumps(scores)}]
        if tools and not tool_results and self.tool_to_call in tools:
            return None, [{"id": "call_1", "name": self.tool_to_call, "arguments": "{}"}]
        if "Summarise this conversation" in instructions:
            return "The person asked about workouts and their fast; the coach suggested a short session.", []
        if tool_results and self.answer is not None:
            return self.answer, []
        if tool_results:
            data = json.loads(tool_results[-1]["content"])
            if isinstance(data, dict) and data.get("active"):
                return f"Model says: {data['elapsed']} into your fast, {data['stage']} stage.", []
            return f"Model says: {json.dumps(data, sort_keys=True)}", []
        return "Model says: hello!", []

    async def completions(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return JSONResponse({"error": {"message": "bad key", "type": "invalid_request_error"}}, status_code=401)
        body = await request.json()
        self.requests.append(body)
        if self.status != 200:
            return JSONResponse({"error": {"message": "overloaded", "type": "server_error"}}, status_code=self.status)
        text, calls = self._reply(body)
        created = int(time.time())
        if not body.get("stream"):
            message: dict[str, Any] = {"role": "assistant", "content": text}
            if calls:
                message["tool_calls"] = [
                    {"id": c["id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
                    for c in calls
                ]
            return JSONResponse(
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "created": created,
                    "model": body["model"],
                    "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                }
            )

        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            payload = {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "created": created,
                "model": body["model"],
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(payload)}\n\n"

        async def events() -> Any:
            yield chunk({"role": "assistant", "content": ""})
            if calls:
                for i, call in enumerate(calls):
                    yield chunk(
                        {
                            "tool_calls": [
                                {
                                    "index": i,
                                    "id": call["id"],
                                    "type": "function",
                                    "function": {"name": call["name"], "arguments": ""},
                                }
                            ]
                        }
                    )
                    yield chunk({"tool_calls": [{"index": i, "function": {"arguments": call["arguments"]}}]})
                yield chunk({}, "tool_calls")
            else:
                for word in (text or "").split(" "):
                    await asyncio.sleep(0)
                    yield chunk({"content": word + " "})
                yield chunk({}, "stop")
            yield "data: [DONE]\n\n"

        return StreamingResponse(events(), media_type="text/event-stream")

    async def messages(self, request: Request) -> Response:
        """The Anthropic Messages API, translated to the same model behaviour."""
        keys = {request.headers.get("x-api-key"), request.headers.get("authorization", "").removeprefix("Bearer ")}
        if API_KEY not in keys:
            return JSONResponse({"type": "error", "error": {"type": "authentication_error"}}, status_code=401)
        body = await request.json()
        self.requests.append(body)
        as_openai: list[dict[str, Any]] = [{"role": "system", "content": str(body.get("system", ""))}]
        for message in body["messages"]:
            blocks = message["content"] if isinstance(message["content"], list) else [message["content"]]
            for block in blocks:
                if isinstance(block, dict) and block.get("type") == "tool_result":
                    content = block["content"]
                    if isinstance(content, list):
                        content = "".join(part.get("text", "") for part in content)
                    as_openai.append({"role": "tool", "content": content})
        tools = [{"function": {"name": t["name"]}} for t in body.get("tools", [])]
        text, calls = self._reply({"messages": as_openai, "tools": tools})
        usage = {"input_tokens": 10, "output_tokens": 5}
        content: list[dict[str, Any]] = (
            [
                {"type": "tool_use", "id": "toolu_1", "name": c["name"], "input": json.loads(c["arguments"])}
                for c in calls
            ]
            if calls
            else [{"type": "text", "text": text or ""}]
        )
        stop = "tool_use" if calls else "end_turn"
        message = {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": body["model"],
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": usage,
        }
        if not body.get("stream"):
            return JSONResponse(message)

        def event(kind: str, data: dict[str, Any]) -> str:
            return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"

        async def events() -> Any:
            yield event("message_start", {"message": {**message, "content": [], "stop_reason": None}})
            if calls:
                yield event("content_block_start", {"index": 0, "content_block": {**content[0], "input": {}}})
                partial = {"type": "input_json_delta", "partial_json": calls[0]["arguments"]}
                yield event("content_block_delta", {"index": 0, "delta": partial})
            else:
                yield event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
                for word in (text or "").split(" "):
                    await asyncio.sleep(0)
                    yield event(
                        "content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": word + " "}}
                    )
            yield event("content_block_stop", {"index": 0})
            yield event("message_delta", {"delta": {"stop_reason": stop, "stop_sequence": None}, "usage": usage})
            yield event("message_stop", {})

        return StreamingResponse(events(), media_type="text/event-stream")

    # Serving -----------------------------------------------------------------------------------------

    def start(self) -> None:
        app = Starlette(
            routes=[
                Route("/v1/chat/completions", self.completions, methods=["POST"]),
                Route("/v1/messages", self.messages, methods=["POST"]),
            ]
        )
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, daemon=True)
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)
        self.base_url = f"http://127.0.0.1:{port}/v1"

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
