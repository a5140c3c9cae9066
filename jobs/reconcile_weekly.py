"""The weekly reconciliation: claim the week, compare the sources, post with bot.posting.

The as-of date is the week's closing Sunday (as for the digest), so a late run compares the
same week and posts only if nobody did. With fewer than two sources there is nothing to
compare and nothing is posted.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient

from bot import posting
from jobs.claim import claimed_once
from tools.clock import today
from tools.deps import ToolDeps
from tools.digest import week_as_of
from tools.reconcile import ReconcileInput, reconcile, sources_held

log = logging.getLogger(__name__)
JOB = "weekly-reconcile"


def run_weekly_reconcile(
    deps: ToolDeps, *, now: datetime, client: WebClient | None = None
) -> str | None:
    """Post last week's reconciliation once; the message ts, or None when nothing was posted."""
    s = deps.settings
    if len(sources_held(deps)) < 2:
        log.info("event=reconcile_skipped reason=one_source")
        return None
    channel = posting.digest_channel(s)
    as_of = week_as_of(today(s.tz, now))
    with claimed_once(deps, JOB, as_of.isoformat(), now=now) as mine:
        if not mine:
            return None
        result = reconcile(deps, ReconcileInput(as_of=as_of))
        ts = posting.post_reconciliation(client or posting.client_for(s), channel, result)
        log.info("event=reconcile_posted as_of=%s differences=%s", as_of, len(result.differences))
        return ts
