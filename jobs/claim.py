"""Exactly-once for scheduled posts: claim a (job, period) row before doing the work.

`claim` INSERTs into `job_runs`; the unique (job, period) constraint lets exactly one caller
succeed, whether the others are an earlier run (a restart, a misfire catch-up, a manual
`arbot jobs run`) or another worker racing right now. The winner does the work and marks the
row done. If the work raises, the row is marked failed and a later run of the same period may
take it over again (`reclaim_failed`, itself a conditional UPDATE so only one retry wins):
a crash before posting is retried, a success is never repeated. A worker killed mid-run
leaves a "running" row behind; that period is then skipped (at most once), which for a
digest or an alert is the safer side.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from db.jobs import (
    claimed_periods,
    finish_claim,
    insert_claim,
    insert_claims,
    reclaim_failed,
    release_claims,
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


def claim_many(deps: ToolDeps, job: str, periods: list[str], *, now: datetime) -> list[str]:
    """Claim each period (marked done at once: the caller posts right after); the won ones."""
    return insert_claims(deps.engine, job, periods, now)
