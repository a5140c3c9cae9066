"""The named jobs and one way to run any of them (scheduler, `arbot jobs run`, tests)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from slack_sdk import WebClient

from jobs.at_risk_scan import run_at_risk_scan
from jobs.dispute_watch import run_dispute_watch
from jobs.dunning_sequence import run_dunning
from jobs.entries import run_outbox_job, run_stripe_sync_job
from jobs.weekly_digest import run_weekly_digest
from tools.deps import ToolDeps

log = logging.getLogger(__name__)

JobFn = Callable[..., Any]
JOBS: dict[str, JobFn] = {
    "weekly-digest": run_weekly_digest,
    "at-risk-scan": run_at_risk_scan,
    "dispute-watch": run_dispute_watch,
    "dunning": run_dunning,
    "stripe-sync": run_stripe_sync_job,
    "outbox": run_outbox_job,
}


class UnknownJob(ValueError):
    pass


def run_job(
    deps: ToolDeps, name: str, *, now: datetime | None = None, client: WebClient | None = None
) -> Any:
    """Run one job as of `now` (default: the clock); its claims make a repeat a no-op."""
    fn = JOBS.get(name)
    if fn is None:
        raise UnknownJob(f"no job {name!r}; one of: {', '.join(JOBS)}")
    now = now or datetime.now(UTC)
    started = time.perf_counter()
    try:
        result = fn(deps, now=now, client=client)
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
