"""The HTTP front door for `arbot serve --http`: a tiny WSGI app with a route table.

Routes: POST /slack/events (Bolt, which checks Slack's signature: bad or stale gets 401 and
nothing runs), GET /healthz (200 when the database answers, 503 otherwise). Other parts add
their own route with `add_route`, e.g. the Stripe webhook:

    routes = default_routes(app, deps)
    routes[("POST", "/stripe/webhook")] = stripe_webhook_wsgi(deps)
    server = serve(routes, host="0.0.0.0", port=3000)

Any WSGI server can host `WsgiApp`; `serve` uses the standard library's threaded server so
the bot runs with no extra dependency.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import text

from tools.deps import ToolDeps

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]
WsgiCallable = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]
Routes = dict[tuple[str, str], WsgiCallable]


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


def default_routes(app: App, deps: ToolDeps) -> Routes:
    return {("POST", "/slack/events"): slack_events(app), ("GET", "/healthz"): health_check(deps)}


class WsgiApp:
    """Dispatch on (method, path); 404 for unknown paths, 405 for a known path's wrong verb."""

    def __init__(self, routes: Routes) -> None:
        self.routes = routes

    def add_route(self, method: str, path: str, handler: WsgiCallable) -> None:
        self.routes[(method.upper(), path)] = handler

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "/")
        handler = self.routes.get((method, path))
        if handler is not None:
            return handler(environ, start_response)
        if any(p == path for _, p in self.routes):
            return _json(start_response, "405 Method Not Allowed", {"error": "method not allowed"})
        return _json(start_response, "404 Not Found", {"error": "not found"})


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    raw = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(raw)))]
    )
    return [raw]


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        log.debug("event=http_request %s", format % args)


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 256


def serve(
    routes: Routes | WsgiApp, *, host: str = "127.0.0.1", port: int = 3000
) -> ThreadingWSGIServer:
    """A threaded WSGI server bound to host:port (port 0 picks a free one); not yet running."""
    app = routes if isinstance(routes, WsgiApp) else WsgiApp(routes)
    return make_server(
        host, port, app, server_class=ThreadingWSGIServer, handler_class=_QuietHandler
    )


def serve_in_thread(server: ThreadingWSGIServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, name="arbot-http", daemon=True)
    thread.start()
    return thread
