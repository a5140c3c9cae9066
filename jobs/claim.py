"""Exactly-once for scheduled posts: claim a (job, period) row before doing the work.

`claim` INSERTs into `job_runs`; the unique (job, period) constraint lets exactly one caller
succeed, whether the others are an earlier run (a restart, a misfire catch-up, a manual
`arbot jobs run`) or another worker racing right now. The winner does the work and marks the
row done. If the work raises, the row is marked failed and a later run of the same period may
take it over again (`reclaim_failed`, itself a conditional UPDATE so only one retry wins):
a crash before posting is retried, a success is never repeated. A worker killed mid-run
leaves a "running" row behind; that whole-run period (a week's digest) is then skipped (at
most once), which for a digest is the safer side.

Posts owed per item (each new dispute's alert, each reminder's card) are claimed with
`claims_to_post` and marked done by `post_claimed` / `post_together` only once Slack took them.
Whatever ends the block before that (a failed post, any error, a restart's KeyboardInterrupt)
marks the claims not done failed, and the next run posts them. A process killed outright
cannot mark anything: its claims stay "running", and once older than `LEASE` the next run
takes them over, so an alert is delayed, never lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial

from db.jobs import (
    claim_detail,
    claimed_periods,
    fail_unfinished,
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

# How long a "running" per-item claim is trusted to belong to a live run. A run takes all its
# claims at its start and may then draft each reminder with the LLM and wait out Slack's
# Retry-After, so a large batch can legitimately take many minutes: 15 minutes could expire
# under a live run and post twice. An hour is far beyond any run, and still shorter than the
# gap between two runs of the daily jobs (the 15-minute dispute watch retakes within the hour),
# so a killed run's posts come with the next run. Not a job's misfire grace: that is a day for
# the daily jobs, and the next day's run, exactly a day later, would not yet retake them.
LEASE = timedelta(hours=1)


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


def hold(deps: ToolDeps, job: str, periods: list[str], *, now: datetime) -> list[str]:
    """Claim periods as done without posting (a state already told); the ones held stay."""
    return insert_claims(deps.engine, job, periods, now, status="done")


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


@contextmanager
def claims_to_post(
    deps: ToolDeps, job: str, periods: list[str], *, now: datetime
) -> Iterator[list[str]]:
    """`with claims_to_post(...) as won:` post each won period (`post_claimed`/`post_together`).

    Yields the periods whose post is still owed and now this run's, in the given order: never
    claimed, failed, or left "running" longer than `LEASE` ago by a killed run. Only the given
    periods' claims are read, never every claim the job ever made. Leaving the block by any
    exit marks the won claims not marked done failed, so the next run posts them.
    """
    won = _claim_to_post(deps, job, periods, now=now)
    try:
        yield won
    finally:
        if won:
            with deps.engine.begin() as conn:
                fail_unfinished(conn, job, won, now, now)


def _claim_to_post(deps: ToolDeps, job: str, periods: list[str], *, now: datetime) -> list[str]:
    stale_before = now - LEASE
    with deps.engine.connect() as conn:
        held = held_periods(conn, job, periods, stale_before=stale_before)
    wanted = [p for p in periods if p not in held]
    won = set(insert_claims(deps.engine, job, wanted, now, status="running"))
    for p in wanted:
        if p not in won:
            with deps.engine.begin() as conn:
                if reclaim_failed(conn, job, p, now, stale_before=stale_before):
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
