"""`arbot serve`: run the Slack bot (Socket Mode with SLACK_APP_TOKEN, or HTTP with --http).

HTTP mode serves POST /slack/events, GET /healthz and any route others add to the table in
`build_routes` (e.g. the Stripe webhook). Socket Mode needs no public URL: one instance only.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

from slack_bolt import App

from bot.app import create_app
from bot.outbox_hook import start_outbox
from bot.server import Routes, default_routes, health_check, serve, serve_in_thread
from jobs.scheduler import start_scheduler
from tools.deps import ToolDeps, connect
from tools.settings import SettingsError, load_settings

log = logging.getLogger(__name__)

# Hooks run once the app and deps exist, before serving (e.g. start the outbox worker or the
# scheduler). Each gets (deps, app) and may return a stop callable for shutdown.
StartHook = Callable[[ToolDeps, App], Callable[[], None] | None]
START_HOOKS: list[StartHook] = [start_outbox, start_scheduler]


def register(sub: Any) -> None:
    parser = sub.add_parser("serve", help="run the Slack bot")
    parser.add_argument(
        "--http",
        action="store_true",
        help="serve HTTP (/slack/events, /healthz) instead of Socket Mode",
    )
    parser.add_argument("--host", default="0.0.0.0", help="HTTP bind address (default 0.0.0.0)")
    parser.add_argument("--port", type=int, default=3000, help="HTTP port (default 3000)")
    parser.set_defaults(run=run)


def build_routes(app: App, deps: ToolDeps) -> Routes:
    """Every HTTP route of `arbot serve --http`; add yours here."""
    routes = default_routes(app, deps)
    if deps.settings.stripe_webhook_secret is not None:
        from bot.stripe_webhook import stripe_webhook_wsgi
        from jobs.dispute_watch import webhook_hook

        # A dispute new to the ledger is alerted at once, after the webhook commits.
        routes[("POST", "/stripe/webhook")] = stripe_webhook_wsgi(
            deps, on_new_dispute=webhook_hook(deps, app.client)
        )
    return routes


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    if not args.http and settings.slack_app_token is None:
        raise SettingsError(
            "setting SLACK_APP_TOKEN: required for Socket Mode (xapp-...); "
            "or run `arbot serve --http --port N` behind a public URL"
        )
    deps = connect(settings)
    app = create_app(settings, deps)  # the agent fallback is wired in create_app
    routes = build_routes(app, deps) if args.http else None  # refuses before anything starts
    stops = [stop for hook in START_HOOKS if (stop := hook(deps, app)) is not None]
    try:
        if routes is not None:
            return _serve_http(routes, args.host, args.port)
        return _serve_socket_mode(app, settings.slack_app_token.get_secret_value())  # type: ignore[union-attr]
    finally:
        for stop in stops:
            stop()


def _serve_http(routes: Routes, host: str, port: int) -> int:
    server = serve(routes, host=host, port=port)
    log.info("event=serving mode=http host=%s port=%d", host, server.server_address[1])
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    serve_in_thread(server)
    done.wait()
    log.info("event=stopping mode=http")
    server.shutdown()
    server.server_close()
    return 0


def _serve_socket_mode(app: App, app_token: str) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    log.info("event=serving mode=socket")
    SocketModeHandler(app, app_token).start()  # type: ignore[no-untyped-call]
    return 0


__all__ = ["START_HOOKS", "build_routes", "health_check", "register", "run"]
