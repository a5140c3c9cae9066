"""The weekly reconciliation: claim the week, compare the sources, post with bot.posting.

The as-of date is the week's closing Sunday (as for the digest), so a late run compares the
same week and posts only if nobody did. The message and the CSV of the differences in its
thread are posted as jobs.thread_post's parts. With fewer than two sources there is nothing
to compare and nothing is posted.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from functools import partial

from slack_sdk import WebClient

from bot import posting
from jobs.thread_post import post_week, weeks_owing_thread
from tools.clock import today
from tools.deps import ToolDeps
from tools.digest import week_as_of
from tools.reconcile import ReconcileInput, reconcile, sources_held

log = logging.getLogger(__name__)
JOB = "weekly-reconcile"


def run_weekly_reconcile(
    deps: ToolDeps, *, now: datetime, client: WebClient | None = None
) -> str | None:
    """Post what is owed of last week's reconciliation; the message ts, or None when nothing
    was owed. A CSV Slack failed in an earlier week is posted first, under that week's
    message."""
    s = deps.settings
    if len(sources_held(deps)) < 2:
        log.info("event=reconcile_skipped reason=one_source")
        return None
    slack = client or posting.client_for(s)
    channel = posting.digest_channel(s)
    week = week_as_of(today(s.tz, now))
    for earlier in weeks_owing_thread(deps, JOB, week):
        _post_week(deps, slack, channel, earlier, now)
    return _post_week(deps, slack, channel, week, now)


def _post_week(
    deps: ToolDeps, slack: WebClient, channel: str, as_of: date, now: datetime
) -> str | None:
    return post_week(
        deps,
        JOB,
        as_of,
        build=partial(reconcile, deps, ReconcileInput(as_of=as_of)),
        message=partial(posting.post_reconciliation_message, slack, channel),
        thread=[("csv", partial(posting.post_reconciliation_csv, slack, channel))],
        now=now,
    )
