"""`arbot serve`'s start hook for the outbox: run the worker, redrawing cards as it goes."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App

from bot.cards import card_notifier
from tools.deps import ToolDeps
from tools.outbox import Outbox

log = logging.getLogger(__name__)


def start_outbox(deps: ToolDeps, app: App) -> Callable[[], None]:
    """Start the outbox worker thread; returns the function that stops it at shutdown."""
    box = Outbox(deps, notify=card_notifier(app.client, deps))
    thread, stop = box.start(interval=1.0)
    log.info("event=outbox_started")

    def shutdown() -> None:
        stop.set()
        thread.join(timeout=10)

    return shutdown
