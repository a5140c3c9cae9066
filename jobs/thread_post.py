"""A weekly job's post in parts: the channel message and each part of its thread are claims of
the week, each marked done once Slack took it.

The message's ts is kept on its claim, so when Slack takes the message but fails a part of
the thread, the next run posts only what is missing, under the message already there, never
a second message. Parts an earlier week still owes are posted by the next run, whichever
week it is for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import partial
from typing import TypeVar

from jobs import claim
from tools.deps import ToolDeps

log = logging.getLogger(__name__)
T = TypeVar("T")
ThreadPart = tuple[str, Callable[[str, T], object]]  # (name, post(thread_ts, content))


def weeks_owing_thread(deps: ToolDeps, job: str, week: date) -> list[date]:
    """Earlier weeks whose message is in the channel but a part of whose thread failed."""
    weeks = {p.split(" ")[0] for p in claim.failed(deps, job) if " " in p}
    return [
        date.fromisoformat(w)
        for w in sorted(weeks)
        if w < week.isoformat() and claim.detail(deps, job, w)
    ]


def post_week(
    deps: ToolDeps,
    job: str,
    week: date,
    *,
    build: Callable[[], T],
    message: Callable[[T], str],
    thread: Sequence[ThreadPart[T]],
    now: datetime,
) -> str | None:
    """Post what is owed of `week`: `message(content)` returns the message's ts, each thread
    part is posted under it. `build()` makes the content, only when something is owed. The
    message's ts, or None when nothing was owed (posted already, or another worker has it)."""
    head = week.isoformat()
    parts = [(f"{head} {name}", post) for name, post in thread]
    with claim.claims_to_post(deps, job, [head] + [p for p, _ in parts], now=now) as owed:
        if not owed:
            log.info("event=job_claim_taken job=%s period=%s", job, head)
            return None
        content = build()
        if head in owed:

            def post_message() -> None:
                claim.note(deps, job, head, message(content))

            claim.post_together(deps, job, [head], post_message, now=now)
        ts = claim.detail(deps, job, head)
        for period, post in parts:
            if period in owed and ts:
                claim.post_together(deps, job, [period], partial(post, ts, content), now=now)
        log.info("event=week_posted job=%s as_of=%s parts=%d", job, head, len(owed))
        return ts
