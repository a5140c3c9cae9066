"""The Monday digest: claim the week, assemble it with tools.digest, post it with bot.posting.

The period is the week's closing Sunday, whatever day the run happens: a late run (the
worker was down on Monday) reports the same week, and posts only if nobody did. The message,
the details in its thread and the files (charts, CSV) are posted as jobs.thread_post's parts.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import partial

from slack_sdk import WebClient

from bot import posting
from jobs.thread_post import post_week, weeks_owing_thread
from tools.clock import today
from tools.deps import ToolDeps
from tools.digest import DigestInput, week_as_of, weekly_digest

JOB = "weekly-digest"


def run_weekly_digest(
    deps: ToolDeps, *, now: datetime, client: WebClient | None = None
) -> str | None:
    """Post what is owed of the digest of the week before `now`: its message ts, or None when
    nothing was owed (posted already, or another worker is posting it). A thread Slack failed
    in an earlier week is posted first, under that week's message."""
    s = deps.settings
    channel = posting.digest_channel(s)
    week = week_as_of(today(s.tz, now))
    for earlier in weeks_owing_thread(deps, JOB, week):
        _post_week(deps, client, channel, earlier, now)
    return _post_week(deps, client, channel, week, now)


def _post_week(
    deps: ToolDeps, client: WebClient | None, channel: str, as_of: date, now: datetime
) -> str | None:
    slack = client or posting.client_for(deps.settings)
    return post_week(
        deps,
        JOB,
        as_of,
        build=partial(weekly_digest, deps, DigestInput(as_of=as_of)),
        message=partial(posting.post_digest_message, slack, channel),
        thread=[
            ("details", partial(posting.post_digest_details, slack, channel)),
            ("files", partial(posting.post_digest_files, slack, channel)),
        ],
        now=now,
    )
