"""A scripted OpenAI-compatible chat server on 127.0.0.1, for the real openai/langchain client.

Tests queue what the "model" says next (a tool call, a text answer, an HTTP error, a stall)
or install a responder that decides from the request, and then read back every request
the client sent: the messages (so a test sees the tool results the model was given), the
tools offered, and the token counts reported. `server_seconds` is the time spent inside the
fake, so a benchmark can subtract it from the wall time to get the bot's own overhead.

It can also behave like the stricter OpenAI-compatible servers (llama-cpp-python's among
them): drop the tools of a request that sends no `tool_choice`, fail a `tool_choice` it does
not know, refuse an assistant message whose content is null, or send a malformed reply.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted response: text, tool calls, an HTTP error status, or a stall first."""

    content: str | None = None
    tool_calls: list[tuple[str, dict[str, Any] | str]] = field(default_factory=list)
    status: int = 200
    sleep_seconds: float = 0.0
    completion_tokens: int | None = None
    raw: dict[str, Any] | None = None  # sent as the whole 200 response body (malformed replies)
    # Held back (outside the fake's lock) until this is set: orders replies across threads.
    after: threading.Event | None = None
    message: str = "scripted failure"  # an error status's message


def say(text: str) -> Reply:
    return Reply(content=text)


def call(name: str, args: dict[str, Any] | str | None = None, **more: Any) -> Reply:
    """A tool call; pass a str for raw (possibly malformed) JSON arguments."""
    return Reply(tool_calls=[(name, args if args is not None else more)])


def calls(*pairs: tuple[str, dict[str, Any]]) -> Reply:
    return Reply(tool_calls=list(pairs))


def malformed(body: dict[str, Any] | None = None) -> Reply:
    """A 200 response that is not a chat completion (no choices by default)."""
    return Reply(raw=body if body is not None else {"id": "x", "object": "chat.completion"})


def error(status: int = 500) -> Reply:
    return Reply(status=status)


def stall(seconds: float) -> Reply:
    return Reply(content="too late", sleep_seconds=seconds)


Responder = Callable[[dict[str, Any]], Reply]


def approx_tokens(payload: Any) -> int:
    """What the fake reports as prompt tokens: ~4 characters a token, like real tokenizers."""
    return max(1, len(json.dumps(payload, ensure_ascii=False)) // 4)


class FakeOpenAI:
    def __init__(self) -> None:
        self.script: deque[Reply] = deque()
        self.responder: Responder | None = None
        self.requests: list[dict[str, Any]] = []
        self.server_seconds = 0.0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        # Strict-server behaviours, off by default.
        self.tools_need_choice = False  # no tool_choice (or "none"): tools are not in the prompt
        self.prose_without_tools = "Here is some general advice about finance."
        self.refused_tool_choices: set[str] = set()  # answered with a 500
        self.null_content_status: int | None = None  # status for an assistant content null

    # --- scripting ---------------------------------------------------------------------

    def push(self, *replies: Reply) -> None:
        self.script.extend(replies)

    def _strict_refusal(self, body: dict[str, Any]) -> Reply | None:
        choice = body.get("tool_choice")
        if isinstance(choice, str) and choice in self.refused_tool_choices:
            # As llama-cpp-python refuses it: a 500 whose message names the parameter.
            return Reply(status=500, message=f"tool_choice {choice!r} is not supported")
        if self.null_content_status is not None and any(
            m.get("role") == "assistant" and m.get("content") is None
            for m in body.get("messages", [])
        ):
            return Reply(status=self.null_content_status)
        return None

    def next_reply(self, body: dict[str, Any]) -> Reply:
        refused = self._strict_refusal(body)
        if refused is not None:
            return refused
        reply = self._scripted(body)
        if (
            self.tools_need_choice
            and body.get("tool_choice") in (None, "none")
            and reply.tool_calls
        ):
            return Reply(content=self.prose_without_tools)  # the model never saw the tools
        return reply

    def _scripted(self, body: dict[str, Any]) -> Reply:
        if self.script:
            return self.script.popleft()
        if self.responder is not None:
            return self.responder(body)
        return Reply(content="FAKE SCRIPT EXHAUSTED", status=599)

    # --- what was sent -----------------------------------------------------------------

    def tool_results(self, request: int = -1) -> list[str]:
        """Contents of the tool messages the client sent in one request."""
        messages = self.requests[request]["messages"]
        return [m["content"] for m in messages if m.get("role") == "tool"]

    def tools_offered(self, request: int = -1) -> list[str]:
        return [t["function"]["name"] for t in self.requests[request].get("tools", [])]

    @property
    def base_url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    # --- serving -----------------------------------------------------------------------

    def _completion(self, body: dict[str, Any], reply: Reply) -> dict[str, Any]:
        n = next(self._ids)
        message: dict[str, Any] = {"role": "assistant", "content": reply.content}
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": f"call_{n}_{i}",
                    "type": "function",
                    "function": {
                        "name": name,
                        "arguments": args if isinstance(args, str) else json.dumps(args),
                    },
                }
                for i, (name, args) in enumerate(reply.tool_calls)
            ]
        prompt = approx_tokens({"m": body.get("messages"), "t": body.get("tools")})
        completion = reply.completion_tokens or approx_tokens(message)
        return {
            "id": f"chatcmpl-fake{n}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": message,
                    "finish_reason": "tool_calls" if reply.tool_calls else "stop",
                    "logprobs": None,
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; without this, Nagle + delayed ACK add
            # ~40 ms per response that no real server would, and that the bench would blame
            # on the bot.
            disable_nagle_algorithm = True

            def log_message(self, *_args: Any) -> None:
                return

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                started = time.perf_counter()
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                if not self.path.endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                with fake._lock:
                    fake.requests.append(body)
                    reply = fake.next_reply(body)
                if reply.sleep_seconds:
                    time.sleep(reply.sleep_seconds)
                if reply.after is not None and not reply.after.wait(timeout=30):
                    reply = Reply(status=599)  # the awaited event never came: fail loudly
                try:
                    if reply.raw is not None:
                        self._send(200, reply.raw)
                    elif reply.status != 200:
                        self._send(
                            reply.status,
                            {"error": {"message": reply.message, "type": "server_error"}},
                        )
                    else:
                        self._send(200, fake._completion(body, reply))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)
                with fake._lock:
                    fake.server_seconds += time.perf_counter() - started

        return Handler

    def start(self) -> FakeOpenAI:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@contextmanager
def running() -> Iterator[FakeOpenAI]:
    fake = FakeOpenAI().start()
    try:
        yield fake
    finally:
        fake.stop()
