"""The Monday digest: claim the week, assemble it with tools.digest, post it with bot.posting.

The period is the week's closing Sunday, whatever day the run happens: a late run (the
worker was down on Monday) reports the same week, and posts only if nobody did.

The channel message, the details in its thread and the files (charts, CSV) are three claims
of that week, each marked done once Slack took it. The message's ts is kept on its claim, so
when Slack takes the message but fails the thread, the next run posts only what is missing,
under the message already there, never a second digest. Parts an earlier week still owes
are posted by the next run, whichever week it is for.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from functools import partial

from slack_sdk import WebClient

from bot import posting
from jobs import claim
from tools.clock import today
from tools.deps import ToolDeps
from tools.digest import DigestInput, week_as_of, weekly_digest

log = logging.getLogger(__name__)
JOB = "weekly-digest"
THREAD_PARTS = (("details", posting.post_digest_details), ("files", posting.post_digest_files))


def run_weekly_digest(
    deps: ToolDeps, *, now: datetime, client: WebClient | None = None
) -> str | None:
    """Post what is owed of the digest of the week before `now`: its message ts, or None when
    nothing was owed (posted already, or another worker is posting it). A thread Slack failed
    in an earlier week is posted first, under that week's message."""
    s = deps.settings
    channel = posting.digest_channel(s)
    week = week_as_of(today(s.tz, now))
    for earlier in _threads_owed_before(deps, week):
        _post_week(deps, client, channel, earlier, now)
    return _post_week(deps, client, channel, week, now)


def _threads_owed_before(deps: ToolDeps, week: date) -> list[date]:
    """Earlier weeks whose message is in the channel but whose details or files failed."""
    weeks = {p.split(" ")[0] for p in claim.failed(deps, JOB) if " " in p}
    return [
        date.fromisoformat(w)
        for w in sorted(weeks)
        if w < week.isoformat() and claim.detail(deps, JOB, w)
    ]


def _post_week(
    deps: ToolDeps, client: WebClient | None, channel: str, as_of: date, now: datetime
) -> str | None:
    head = as_of.isoformat()
    parts = [(f"{head} {name}", post) for name, post in THREAD_PARTS]
    with claim.claims_to_post(deps, JOB, [head] + [p for p, _ in parts], now=now) as owed:
        if not owed:
            log.info("event=job_claim_taken job=%s period=%s", JOB, head)
            return None
        slack = client or posting.client_for(deps.settings)
        digest = weekly_digest(deps, DigestInput(as_of=as_of))
        if head in owed:

            def post_message() -> None:
                claim.note(deps, JOB, head, posting.post_digest_message(slack, channel, digest))

            claim.post_together(deps, JOB, [head], post_message, now=now)
        ts = claim.detail(deps, JOB, head)
        for period, post in parts:
            if period in owed and ts:
                part = partial(post, slack, channel, ts, digest)
                claim.post_together(deps, JOB, [period], part, now=now)
        log.info("event=digest_posted as_of=%s channel=%s parts=%d", as_of, channel, len(owed))
        return ts
