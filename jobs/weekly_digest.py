"""The Monday digest: claim the week, assemble it with tools.digest, post it with bot.posting.

The period is the week's closing Sunday, whatever day the run happens: a late run (the
worker was down on Monday) reports the same week, and posts only if nobody did.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient

from bot import posting
from jobs.claim import claimed_once
from tools.clock import today
from tools.deps import ToolDeps
from tools.digest import DigestInput, week_as_of, weekly_digest

log = logging.getLogger(__name__)
JOB = "weekly-digest"


def run_weekly_digest(
    deps: ToolDeps, *, now: datetime, client: WebClient | None = None
) -> str | None:
    """Post the digest of the week before `now` once; the message ts, or None if already done."""
    s = deps.settings
    channel = posting.digest_channel(s)
    as_of = week_as_of(today(s.tz, now))
    with claimed_once(deps, JOB, as_of.isoformat(), now=now) as mine:
        if not mine:
            return None
        digest = weekly_digest(deps, DigestInput(as_of=as_of))
        ts = posting.post_digest(client or posting.client_for(s), channel, digest)
        log.info("event=digest_posted as_of=%s channel=%s", as_of, channel)
        return ts
