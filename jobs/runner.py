"""One way to run any job of `jobs.table` (the scheduler, `arbot jobs run`, tests)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient

from jobs.table import job_named
from tools.deps import ToolDeps

log = logging.getLogger(__name__)


def run_job(
    deps: ToolDeps, name: str, *, now: datetime | None = None, client: WebClient | None = None
) -> Any:
    """Run one job as of `now` (default: the clock); its claims make a repeat a no-op."""
    job = job_named(name)
    now = now or datetime.now(UTC)
    started = time.perf_counter()
    try:
        result = job.run(deps, now=now, client=client)
    except Exception:
        log.exception("event=job_failed job=%s now=%s", name, now.isoformat())
        raise
    log.info(
        "event=job_done job=%s now=%s ms=%d",
        name,
        now.isoformat(),
        (time.perf_counter() - started) * 1000,
    )
    return result
