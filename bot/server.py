"""The HTTP front door for `arbot serve --http`: a tiny WSGI app with a route table.

Routes: POST /slack/events (Bolt, which checks Slack's signature: bad or stale gets 401 and
nothing runs), GET /healthz (200 when the database answers, 503 otherwise). Other parts add
their own route with `add_route`, e.g. the Stripe webhook:

    routes = default_routes(app, deps)
    routes[("POST", "/stripe/webhook")] = stripe_webhook_wsgi(deps)
    server = serve(routes, host="0.0.0.0", port=3000)

Any WSGI server can host `WsgiApp`; `serve` uses the standard library's threaded server so
the bot runs with no extra dependency.

Every route's body is capped in one place, before any handler (and so before any signature
check) runs: a declared length over the cap gets 413 and the body is never read, a body sent
without a length (chunked) gets 411, and an accepted body is read here, once, then handed on.
The server's sockets time out, and a whole request must arrive within a deadline, so a client
that stalls or trickles mid-request is dropped instead of holding a thread; and connections
served at once are capped (503 beyond), so slow clients cannot pile up threads.
"""

from __future__ import annotations

import io
import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from tools.deps import ToolDeps
from tools.settings import Settings, SettingsError

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiCallable = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Routes = dict[tuple[str, str], WsgiCallable]

# Slack's payloads are a few KB and Stripe's events stay well under this: 1 MiB is ample.
MAX_BODY_BYTES = 1024 * 1024
# Slack wants an answer within 3 s, so a request that takes longer to arrive is not Slack's.
REQUEST_TIMEOUT_SECONDS = 10.0
# ...and however it trickles in, a request still arriving after this is dropped.
REQUEST_DEADLINE_SECONDS = 30.0
# Connections served at once (a thread each); more get 503 at once. Slack sends a few per
# second at most, and each is answered (acked) in milliseconds.
MAX_CONNECTIONS = 64


def health_check(deps: ToolDeps) -> WsgiCallable:
    def healthz(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            with deps.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            status, body = "200 OK", {"ok": True, "database": "reachable"}
        except Exception as exc:
            log.warning("event=healthz_db_unreachable error=%s", type(exc).__name__)
            status, body = "503 Service Unavailable", {"ok": False, "database": "unreachable"}
        return _json(start_response, status, body)

    return healthz


def slack_events(app: App) -> WsgiCallable:
    handler = SlackRequestHandler(app, path="/slack/events")

    def events(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        return handler(environ, start_response)

    return events


def require_signing_secret(settings: Settings) -> None:
    """Refuse to serve Slack over HTTP without a signing secret: Bolt would check signatures
    against an empty key, and anyone could forge a click on Approve. Blank counts as missing."""
    secret = settings.slack_signing_secret
    if secret is None or not secret.get_secret_value().strip():
        raise SettingsError(
            "setting SLACK_SIGNING_SECRET: required for `arbot serve --http` "
            "(the app's Basic Information page, Signing Secret)"
        )


def default_routes(app: App, deps: ToolDeps) -> Routes:
    """The Slack and health routes; raises SettingsError when Slack's requests could not be
    verified (the one place HTTP serving checks the signing secret)."""
    require_signing_secret(deps.settings)
    return {("POST", "/slack/events"): slack_events(app), ("GET", "/healthz"): health_check(deps)}


class WsgiApp:
    """Dispatch on (method, path); 404 for unknown paths, 405 for a known path's wrong verb.

    A body over `max_body_bytes` is refused before the route runs (see the module docstring).
    """

    def __init__(self, routes: Routes, *, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.routes = routes
        self.max_body_bytes = max_body_bytes

    def add_route(self, method: str, path: str, handler: WsgiCallable) -> None:
        self.routes[(method.upper(), path)] = handler

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "/")
        handler = self.routes.get((method, path))
        if handler is not None:
            refusal = self._take_body(environ)
            if refusal is not None:
                return _json(start_response, refusal[0], {"error": refusal[1]})
            return handler(environ, start_response)
        if any(p == path for _, p in self.routes):
            return _json(start_response, "405 Method Not Allowed", {"error": "method not allowed"})
        return _json(start_response, "404 Not Found", {"error": "not found"})

    def _take_body(self, environ: dict[str, Any]) -> tuple[str, str] | None:
        """Read the body into memory when it is within the cap; else (status, reason).

        Nothing beyond the headers is read from a refused request.
        """
        if environ.get("HTTP_TRANSFER_ENCODING"):
            return "411 Length Required", "send the body with a Content-Length"
        raw = (environ.get("CONTENT_LENGTH") or "0").strip()
        if not raw.isdigit():
            return "400 Bad Request", "Content-Length is not a number"
        length = int(raw)
        if length > self.max_body_bytes:
            log.warning(
                "event=http_body_refused path=%s length=%d cap=%d",
                environ.get("PATH_INFO"),
                length,
                self.max_body_bytes,
            )
            return "413 Content Too Large", f"body over {self.max_body_bytes} bytes"
        try:
            body = environ["wsgi.input"].read(length) if length else b""
        except TimeoutError:
            return "408 Request Timeout", "the body did not arrive in time"
        if len(body) != length:
            return "400 Bad Request", "the body is shorter than its Content-Length"
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(length)
        return None


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    raw = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(raw)))]
    )
    return [raw]


class _DeadlineReader(socket.SocketIO):
    """The client's socket, readable until a deadline: before each read the socket's timeout
    is cut to what is left, so a client trickling a byte at a time cannot stretch its request
    past the deadline (a per-read timeout alone restarts with every byte)."""

    def __init__(self, sock: socket.socket, deadline: float, per_read: float) -> None:
        super().__init__(sock, "rb")
        self._conn = sock
        self._deadline = deadline
        self._per_read = per_read

    def readinto(self, b: Any) -> int | None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request did not arrive in time")
        self._conn.settimeout(min(left, self._per_read))
        got = super().readinto(b)
        self._conn.settimeout(self._per_read)  # writing the answer gets its own time
        return got


class _QuietHandler(WSGIRequestHandler):
    timeout = REQUEST_TIMEOUT_SECONDS  # applied to each read and write on the socket
    deadline = REQUEST_DEADLINE_SECONDS  # for the whole request line, headers and body

    def setup(self) -> None:
        super().setup()
        reader = _DeadlineReader(self.connection, time.monotonic() + self.deadline, self.timeout)
        self.rfile = io.BufferedReader(reader, io.DEFAULT_BUFFER_SIZE)

    def handle(self) -> None:
        try:
            super().handle()
        except TimeoutError:
            # Stalled or trickling in its request line or headers: drop it, the thread is
            # needed elsewhere.
            log.info("event=http_client_timeout client=%s", self.client_address[0])

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("event=http_request %s", format % args)


_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Retry-After: 1\r\nConnection: close\r\nContent-Length: 17\r\n\r\n"
    b'{"error": "busy"}'
)


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """One thread per connection, at most `max_connections` at once: past that a client gets
    503 at once rather than a thread, so a crowd of slow clients cannot grow threads (and
    memory) without bound. Slack retries a 503; the kernel's queue is not used as a waiting
    room because a queued request would wait behind the slow ones past Slack's 3 s."""

    daemon_threads = True
    request_queue_size = 256
    max_connections = MAX_CONNECTIONS

    def server_activate(self) -> None:
        super().server_activate()
        self._slots = threading.BoundedSemaphore(self.max_connections)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            log.warning("event=http_busy client=%s cap=%d", client_address[0], self.max_connections)
            try:
                request.setblocking(False)  # never let a full client buffer stall this loop
                request.send(_BUSY)
            except OSError:
                pass
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


def serve(
    routes: Routes | WsgiApp,
    *,
    host: str = "127.0.0.1",
    port: int = 3000,
    timeout_seconds: float = REQUEST_TIMEOUT_SECONDS,
    deadline_seconds: float = REQUEST_DEADLINE_SECONDS,
    max_connections: int = MAX_CONNECTIONS,
) -> ThreadingWSGIServer:
    """A threaded WSGI server bound to host:port (port 0 picks a free one); not yet running.

    `timeout_seconds` bounds each read and write on a client's socket, `deadline_seconds`
    the whole request (line, headers, body), `max_connections` the connections served at once.
    """
    app = routes if isinstance(routes, WsgiApp) else WsgiApp(routes)
    handler = type(
        "RequestHandler",
        (_QuietHandler,),
        {"timeout": timeout_seconds, "deadline": deadline_seconds},
    )
    server_class = type("WSGIServer", (ThreadingWSGIServer,), {"max_connections": max_connections})
    return make_server(host, port, app, server_class=server_class, handler_class=handler)


def serve_in_thread(server: ThreadingWSGIServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="arbot-http", daemon=True)
    thread.start()
    return thread
