"""A small fake Slack Web API on 127.0.0.1 that records every call, for tests and benchmarks.

The real `slack_sdk.WebClient` talks to it over loopback HTTP (point `base_url` /
ARBOT_SLACK_API_URL at `fake.base_url`), so a test asserts on what was really sent: which
method, which channel and thread, which blocks, which file bytes. It can be told to answer
the next call of a method with 429 + Retry-After, to check that rate limits are honoured.

Usage:

    with FakeSlack() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.base_url)
        ...
        posts = slack.calls("chat.postMessage")
        slack.wait_for("chat.postMessage", count=1)
        slack.wait_for("chat.update", where=lambda c: "sent to" in c.all_text)
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BOT_USER_ID = "UBOT000001"
BOT_ID = "BBOT000001"
TEAM_ID = "T0000TEST"


@dataclass
class Call:
    """One request the fake received: the API method and its decoded parameters."""

    method: str
    params: dict[str, Any]
    token: str | None
    at: float
    status: int = 200

    @property
    def blocks(self) -> list[dict[str, Any]]:
        blocks = self.params.get("blocks") or []
        return json.loads(blocks) if isinstance(blocks, str) else list(blocks)

    @property
    def all_text(self) -> str:
        """Every piece of text a person would see in this message, joined by newlines."""
        parts = [str(self.params.get("text") or "")]
        parts += list(_texts(self.blocks))
        return "\n".join(p for p in parts if p)


def _texts(node: Any) -> Any:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from _texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from _texts(item)


@dataclass
class Upload:
    file_id: str
    filename: str
    content: bytes = b""
    completed: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    body: dict[str, Any]


class FakeSlack:
    """Threaded HTTP server answering the Web API methods arbot uses."""

    def __init__(
        self,
        *,
        usergroups: dict[str, list[str]] | None = None,
        users: dict[str, dict[str, Any]] | None = None,
        on_call: Callable[[Call], None] | None = None,
        keep_calls: bool = True,
    ) -> None:
        """`on_call` sees every call as it arrives (benchmarks time answers with it);
        `keep_calls=False` stops recording, for long runs."""
        self.on_call = on_call
        self.keep_calls = keep_calls
        self.usergroups = usergroups or {}
        self.users = users or {}
        # What apps.connections.open hands a Socket Mode client (see tests/fakes/socket_mode.py).
        self.socket_mode_url: str | None = None
        self._calls: list[Call] = []
        self._uploads: dict[str, Upload] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._lock = threading.Condition()
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # -- what tests use --------------------------------------------------------------------
    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int | None = 1,
        error: str = "ratelimited",
    ) -> None:
        """Answer the next call of `method` with this status (once), then behave again."""
        with self._lock:
            self._failures.setdefault(method, []).append(
                _Failure(status, retry_after, {"ok": False, "error": error})
            )

    def calls(self, method: str | None = None) -> list[Call]:
        """Recorded calls that were answered 200 (rate-limited attempts are in `attempts`)."""
        with self._lock:
            return [
                c for c in self._calls if c.status == 200 and (method is None or c.method == method)
            ]

    def attempts(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self._calls if c.method == method]

    def uploads(self) -> list[Upload]:
        """Files whose upload was completed (files.completeUploadExternal), oldest first."""
        with self._lock:
            return [u for u in self._uploads.values() if u.completed]

    def reset(self) -> None:
        with self._lock:
            self._calls.clear()
            self._uploads.clear()
            self._failures.clear()

    def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10.0,
        *,
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Block until `count` successful calls of `method` (that satisfy `where`, if given)
        arrived; fail loudly otherwise. Woken by each recorded call, never by polling."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [
                    c
                    for c in self._calls
                    if c.method == method and c.status == 200 and (where is None or where(c))
                ]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({c.method for c in self._calls})
                    raise AssertionError(
                        f"expected {count} {method} call(s) within {timeout}s, got {len(found)};"
                        f" methods seen: {seen}"
                    )
                self._lock.wait(left)

    # -- the API ---------------------------------------------------------------------------
    def _record(self, call: Call) -> _Failure | None:
        with self._lock:
            queue = self._failures.get(call.method)
            failure = queue.pop(0) if queue else None
            if failure:
                call.status = failure.status
            if self.keep_calls:
                self._calls.append(call)
            self._lock.notify_all()
        if self.on_call is not None:
            self.on_call(call)
        return failure

    def _ts_next(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel") or params.get("channel_id")
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://test.slack.com/",
                "team": "Test",
                "user": "arbot",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
            }
        if method == "apps.connections.open":
            if self.socket_mode_url is None:
                return {"ok": False, "error": "socket_mode_not_enabled"}
            return {"ok": True, "url": self.socket_mode_url}
        if method in ("chat.postMessage", "chat.update"):
            ts = params.get("ts") if method == "chat.update" else self._ts_next()
            return {
                "ok": True,
                "channel": channel,
                "ts": ts,
                "message": {"text": params.get("text"), "ts": ts, "bot_id": BOT_ID},
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._ts_next()}
        if method in ("views.open", "views.update", "views.publish", "views.push"):
            view = params.get("view")
            view = json.loads(view) if isinstance(view, str) else view
            return {"ok": True, "view": {"id": f"V{next(self._ids):08d}", **(view or {})}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ids):08d}"
            with self._lock:
                self._uploads[file_id] = Upload(file_id, str(params.get("filename")))
            return {
                "ok": True,
                "file_id": file_id,
                "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}",
            }
        if method == "files.completeUploadExternal":
            files = params.get("files")
            files = json.loads(files) if isinstance(files, str) else files or []
            out = []
            with self._lock:
                for f in files:
                    upload = self._uploads.get(f["id"])
                    if upload is None:
                        return {"ok": False, "error": "file_not_found"}
                    upload.completed = {**params, "title": f.get("title")}
                    out.append({"id": f["id"], "title": f.get("title"), "name": upload.filename})
            return {"ok": True, "files": out}
        if method == "usergroups.users.list":
            group = str(params.get("usergroup"))
            if group not in self.usergroups:
                return {"ok": False, "error": "no_such_subteam"}
            return {"ok": True, "users": self.usergroups[group]}
        if method == "users.info":
            user = str(params.get("user"))
            info = self.users.get(user, {"id": user, "name": user.lower(), "tz": "UTC"})
            return {"ok": True, "user": info}
        if method.startswith("conversations."):
            return self._conversations(method, params)
        return {"ok": False, "error": "unknown_method"}

    def _conversations(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        channel = params.get("channel") or "C0000000"
        if method == "conversations.open":
            users = str(params.get("users") or "")
            return {"ok": True, "channel": {"id": "D" + users.split(",")[0][1:]}}
        if method == "conversations.info":
            return {"ok": True, "channel": {"id": channel, "is_im": str(channel).startswith("D")}}
        if method in ("conversations.history", "conversations.replies"):
            return {"ok": True, "messages": [], "has_more": False}
        if method in ("conversations.join", "conversations.members"):
            return {"ok": True, "channel": {"id": channel}, "members": []}
        return {"ok": True}

    def _upload_bytes(self, file_id: str, data: bytes) -> bool:
        with self._lock:
            upload = self._uploads.get(file_id)
            if upload is None:
                return False
            upload.content = data
            return True


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # benchmarks open many connections at once


def _decode(content_type: str, raw: bytes) -> dict[str, Any]:
    if not raw:
        return {}
    if "application/json" in content_type:
        return dict(json.loads(raw))
    if "application/x-www-form-urlencoded" in content_type:
        return dict(parse_qsl(raw.decode(), keep_blank_values=True))
    return {}


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_args: Any) -> None:  # keep test output clean
            return

        def do_GET(self) -> None:
            self.do_POST()

        def do_POST(self) -> None:
            url = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if url.path.startswith("/upload/"):
                ok = fake._upload_bytes(url.path.rsplit("/", 1)[1], raw)
                self._send(200 if ok else 404, b"OK" if ok else b"not found", "text/plain")
                return
            if not url.path.startswith("/api/"):
                self._send(404, b"not found", "text/plain")
                return
            method = url.path[len("/api/") :]
            params: dict[str, Any] = dict(parse_qsl(url.query, keep_blank_values=True))
            params.update(_decode(self.headers.get("Content-Type", ""), raw))
            auth = self.headers.get("Authorization", "")
            token = auth.removeprefix("Bearer ") if auth else params.pop("token", None)
            failure = fake._record(Call(method, params, token, time.monotonic()))
            if failure is not None:
                headers = {}
                if failure.retry_after is not None:
                    headers["Retry-After"] = str(failure.retry_after)
                self._send(failure.status, json.dumps(failure.body).encode(), headers=headers)
                return
            if not token:
                self._send(200, json.dumps({"ok": False, "error": "not_authed"}).encode())
                return
            self._send(200, json.dumps(fake.answer(method, params)).encode())

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str = "application/json; charset=utf-8",
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

    return Handler
