"""Retention: once a day, forget the bot's own bookkeeping past ARBOT_RETENTION_DAYS.

Deleting what is already gone changes nothing, so two workers running it at once is harmless
and it needs no claim of its own.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient

from tools.deps import ToolDeps
from tools.retention import RetentionResult, prune

log = logging.getLogger(__name__)


def run_retention(
    deps: ToolDeps, *, now: datetime, client: WebClient | None = None
) -> RetentionResult:
    result = prune(deps, now=now)
    log.info(
        "event=retention before=%s %s",
        result.before.isoformat(),
        " ".join(f"{table}={n}" for table, n in sorted(result.deleted.items())),
    )
    return result
