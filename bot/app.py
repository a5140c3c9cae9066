"""The Bolt app factory: settings and ledger in, a ready `slack_bolt.App` out.

Nothing here runs at import time: no client, no engine, no token read. `create_app` builds the
Web API client from the settings (base URL ARBOT_SLACK_API_URL, 429s honoured), installs the
middleware that resolves each request's caller (bot.caller), registers the listener modules
named in `bot.listeners.LISTENERS`, and installs one error handler that logs an error id and
shows the same id to the user, never a traceback.

Acks are fast because listeners run on a worker pool (`process_before_response=False`, the
right mode for a long-running HTTP or Socket Mode process): Bolt answers Slack as soon as the
listener acks (events are acked automatically) and the slow part, the database query and the
posting, carries on in the pool.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.access import Access
from bot.caller import caller_middleware, locate
from bot.slack_client import make_web_client
from tools.deps import ToolDeps
from tools.settings import Settings

log = logging.getLogger(__name__)

# (question, context) -> an Answer, or None when it has nothing better than help: the agent.
# See bot.answer.Fallback for the exact type.
FallbackFn = Callable[..., Any]


@dataclass(frozen=True)
class BotDeps(ToolDeps):
    """What listeners need: the tools' deps plus the bot's own collaborators.

    It *is* a ToolDeps, so a listener can hand it straight to any tool.
    """

    fallback: FallbackFn | None = None


def bot_deps(deps: ToolDeps, *, fallback: FallbackFn | None = None) -> BotDeps:
    return BotDeps(
        settings=deps.settings,
        engine=deps.engine,
        sessions=deps.sessions,
        fallback=fallback if fallback is not None else getattr(deps, "fallback", None),
    )


def create_app(
    settings: Settings,
    deps: ToolDeps,
    *,
    fallback: FallbackFn | None = None,
    listener_executor: Executor | None = None,
    token_verification_enabled: bool = True,
    workers: int | None = None,
) -> App:
    """Build the Bolt app. `fallback` answers what the fast path cannot (the LLM agent).

    `workers` is the listener pool (default ARBOT_WORKERS). Its threads mostly wait on the
    database, so the connection pool has one connection for each (tools.deps.connect): a
    burst of questions queues for a thread here, then never waits for a connection.

    `token_verification_enabled` calls auth.test once at start-up so a wrong token stops the
    process with a clear error instead of failing on the first question.
    """
    client = make_web_client(settings)
    app = App(
        name="arbot",
        client=client,
        signing_secret=(
            settings.slack_signing_secret.get_secret_value()
            if settings.slack_signing_secret
            else None
        ),
        process_before_response=False,
        token_verification_enabled=token_verification_enabled,
        listener_executor=listener_executor
        or ThreadPoolExecutor(
            max_workers=workers or settings.workers, thread_name_prefix="arbot-listener"
        ),
    )
    if fallback is None and getattr(deps, "fallback", None) is None:
        from bot.agent.fallback import slack_agent_fallback  # None (logged once) without a key

        fallback = slack_agent_fallback(deps, client)
    full = bot_deps(deps, fallback=fallback)
    app.use(caller_middleware(Access(settings, client), settings.approvers))
    app.error(_error_handler)

    from bot.listeners import LISTENERS  # late: listener modules import tools and blocks

    for module in LISTENERS:
        module.register(app, full)
    return app


def _error_handler(error: Exception, body: dict[str, Any], client: WebClient) -> None:
    error_id = uuid.uuid4().hex[:8]
    log.error(
        "event=listener_error error_id=%s kind=%s type=%s",
        error_id,
        body.get("type"),
        type(error).__name__,
        exc_info=error,
    )
    place = locate(body)
    if place.channel is None:
        return
    try:
        client.chat_postMessage(
            channel=place.channel,
            thread_ts=place.thread_ts,
            text=f":warning: Sorry, something went wrong on my side (error id `{error_id}`). "
            "Please try again; if it keeps happening, give this id to the team running arbot.",
        )
    except Exception:
        log.exception("event=error_report_failed error_id=%s", error_id)
