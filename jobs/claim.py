"""Exactly-once for scheduled posts: claim a (job, period) row before doing the work.

`claim` INSERTs into `job_runs`; the unique (job, period) constraint lets exactly one caller
succeed, whether the others are an earlier run (a restart, a misfire catch-up, a manual
`arbot jobs run`) or another worker racing right now. The winner does the work and marks the
row done. If the work raises, the row is marked failed and a later run of the same period may
take it over again (`reclaim_failed`, itself a conditional UPDATE so only one retry wins):
a crash before posting is retried, a success is never repeated. A worker killed mid-run
leaves a "running" row behind; that period is then skipped (at most once), which for a
digest or an alert is the safer side.

Posts owed per item (each new dispute's alert, each reminder's card) are claimed with
`claim_to_post` and marked done by `post_claimed` / `post_together` only once Slack took them:
a post that fails is marked failed and the next run posts it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from functools import partial

from db.jobs import (
    claim_detail,
    claimed_periods,
    failed_claims,
    finish_claim,
    held_periods,
    insert_claim,
    insert_claims,
    mark_claims,
    reclaim_failed,
    release_claims,
    set_claim_detail,
)
from tools.deps import ToolDeps

log = logging.getLogger(__name__)


def claim(
    deps: ToolDeps, job: str, period: str, *, now: datetime, detail: str | None = None
) -> bool:
    """True when this caller owns (job, period) now: it must do the work, nobody else will."""
    if insert_claim(deps.engine, job, period, now, detail):
        return True
    with deps.engine.begin() as conn:
        return reclaim_failed(conn, job, period, now)


def finish(
    deps: ToolDeps, job: str, period: str, *, now: datetime, ok: bool, detail: str | None = None
) -> None:
    with deps.engine.begin() as conn:
        finish_claim(conn, job, period, "done" if ok else "failed", now, detail)


def release(deps: ToolDeps, job: str, periods: list[str]) -> int:
    with deps.engine.begin() as conn:
        return release_claims(conn, job, periods)


def claimed(deps: ToolDeps, job: str, prefix: str = "") -> dict[str, str | None]:
    with deps.engine.connect() as conn:
        return claimed_periods(conn, job, prefix)


@contextmanager
def claimed_once(
    deps: ToolDeps, job: str, period: str, *, now: datetime, detail: str | None = None
) -> Iterator[bool]:
    """`with claimed_once(...) as mine: if mine: work()`; marks done, or failed on error."""
    mine = claim(deps, job, period, now=now, detail=detail)
    if not mine:
        log.info("event=job_claim_taken job=%s period=%s", job, period)
        yield False
        return
    try:
        yield True
    except BaseException as exc:
        finish(deps, job, period, now=now, ok=False, detail=type(exc).__name__)
        raise
    finish(deps, job, period, now=now, ok=True, detail=detail)


def claim_to_post(deps: ToolDeps, job: str, periods: list[str], *, now: datetime) -> list[str]:
    """Claim each period whose post is still owed; the won ones, in the given order.

    A claim stays "running" until `post_claimed` marks it done after Slack accepted the post;
    one whose post failed is taken over again here, so an outage delays a post, never loses it.
    Only the given periods' claims are read, never every claim the job ever made.
    """
    with deps.engine.connect() as conn:
        held = held_periods(conn, job, periods)
    wanted = [p for p in periods if p not in held]
    won = set(insert_claims(deps.engine, job, wanted, now, status="running"))
    for p in wanted:
        if p not in won:
            with deps.engine.begin() as conn:
                if reclaim_failed(conn, job, p, now):
                    won.add(p)
    return [p for p in periods if p in won]


def post_together(
    deps: ToolDeps, job: str, periods: list[str], post: Callable[[], object], *, now: datetime
) -> None:
    """`post()` once for all the periods' claims (one message lists them all): marked done
    when it returns; when it raises (Slack down, an error answer), marked failed, for the next
    run to post, and the error is raised, since the run did not do its work."""
    try:
        post()
    except Exception as exc:
        log.warning(
            "event=post_failed job=%s unposted=%d error=%s", job, len(periods), type(exc).__name__
        )
        fail(deps, job, periods, now=now)
        raise
    with deps.engine.begin() as conn:
        mark_claims(conn, job, periods, "done", now)


def post_claimed(
    deps: ToolDeps, job: str, periods: list[str], post: Callable[[str], object], *, now: datetime
) -> list[str]:
    """`post(period)` for each claimed period, each marked done as soon as Slack accepted it.

    On the first failure the periods not posted yet are all marked failed (Slack is likely
    down for them too) and the error is raised.
    """
    for i, period in enumerate(periods):
        try:
            post_together(deps, job, [period], partial(post, period), now=now)
        except Exception:
            fail(deps, job, periods[i + 1 :], now=now)
            raise
    return periods


def fail(deps: ToolDeps, job: str, periods: list[str], *, now: datetime) -> None:
    """Mark claims failed (their work not done), for the next run to take over."""
    with deps.engine.begin() as conn:
        mark_claims(conn, job, periods, "failed", now)


def note(deps: ToolDeps, job: str, period: str, detail: str) -> None:
    """Keep on a claim what a retry needs (the action a failed post had drafted)."""
    with deps.engine.begin() as conn:
        set_claim_detail(conn, job, period, detail)


def detail(deps: ToolDeps, job: str, period: str) -> str | None:
    with deps.engine.connect() as conn:
        return claim_detail(conn, job, period)


def failed(deps: ToolDeps, job: str) -> dict[str, str | None]:
    """period -> detail of the job's failed claims: the work a later run still owes."""
    with deps.engine.connect() as conn:
        return failed_claims(conn, job)
