"""Job claims: the (job, period) rows that make every scheduled post happen once, and the counts
of what the bot did.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, insert, not_, or_, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.models import Action, ActionKind, ActionStatus, JobRun, SentEmail


def insert_claim(engine: Engine, job: str, period: str, at: datetime, detail: str | None) -> bool:
    """True if this caller now owns (job, period); False if someone already does.

    Its own short transaction: on PostgreSQL a concurrent second INSERT waits for the first
    to commit and then fails on the constraint, so exactly one caller wins.
    """
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(JobRun).values(
                    job=job, period=period, claimed_at=at, status="running", detail=detail
                )
            )
    except IntegrityError:
        return False
    return True


def _failed(stale_before: datetime | None) -> ColumnElement[bool]:
    """A failed claim, or (given `stale_before`) one left "running" since before then, which
    only a killed process leaves behind."""
    if stale_before is None:
        return JobRun.status == "failed"
    stale = and_(JobRun.status == "running", JobRun.claimed_at < stale_before)
    return or_(JobRun.status == "failed", stale)


def reclaim_failed(
    conn: Connection, job: str, period: str, at: datetime, *, stale_before: datetime | None = None
) -> bool:
    """A failed run may be retried: one conditional UPDATE, so only one retry wins."""
    result = conn.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.period == period, _failed(stale_before))
        .values(status="running", claimed_at=at, finished_at=None)
    )
    return bool(result.rowcount == 1)


def finish_claim(
    conn: Connection, job: str, period: str, status: str, at: datetime, detail: str | None
) -> None:
    conn.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.period == period)
        .values(status=status, finished_at=at, detail=detail)
    )


def release_claims(conn: Connection, job: str, periods: Sequence[str]) -> int:
    """Forget claims (e.g. an account left high risk, so re-entering alerts again)."""
    if not periods:
        return 0
    result = conn.execute(delete(JobRun).where(JobRun.job == job, JobRun.period.in_(periods)))
    return int(result.rowcount or 0)


def claimed_periods(conn: Connection, job: str, prefix: str = "") -> dict[str, str | None]:
    """period -> detail of every claim of `job` (optionally only periods with a prefix).

    The prefix is matched literally: `%` and `_` in it are escaped, not wildcards.
    """
    query = select(JobRun.period, JobRun.detail).where(JobRun.job == job)
    if prefix:
        query = query.where(JobRun.period.startswith(prefix, autoescape=True))
    return {str(p): d for p, d in conn.execute(query)}


def activity(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """Counts of the bot's work in [start, end): proposals, emails sent, write-offs done."""
    proposed = session.execute(
        select(Action.kind, func.count())
        .where(Action.proposed_at >= start, Action.proposed_at < end)
        .group_by(Action.kind)
    ).all()
    sent = session.execute(
        select(func.count()).where(SentEmail.sent_at >= start, SentEmail.sent_at < end)
    ).scalar_one()
    written = session.execute(
        select(func.count()).where(
            Action.kind == ActionKind.WRITE_OFF,
            Action.status == ActionStatus.DONE,
            Action.decided_at >= start,
            Action.decided_at < end,
        )
    ).scalar_one()
    rejected = session.execute(
        select(func.count()).where(
            Action.status == ActionStatus.REJECTED,
            Action.decided_at >= start,
            Action.decided_at < end,
        )
    ).scalar_one()
    out = {f"proposed_{k}": int(n) for k, n in proposed}
    return out | {
        "emails_sent": int(sent),
        "write_offs_done": int(written),
        "rejected": int(rejected),
    }


def insert_claims(
    engine: Engine, job: str, periods: Sequence[str], at: datetime, status: str = "done"
) -> list[str]:
    """Claim many periods at once; the ones someone else holds are left out of the result.

    One multi-row INSERT when none is taken (the usual case), else one INSERT each. A claim
    for work still to be done is inserted "running" and marked done after it.
    """
    if not periods:
        return []
    rows = [{"job": job, "period": p, "claimed_at": at, "status": status} for p in periods]
    try:
        with engine.begin() as conn:
            conn.execute(insert(JobRun), rows)
        return list(periods)
    except IntegrityError:
        won = [p for p in periods if insert_claim(engine, job, p, at, None)]
        if status != "running" and won:
            with engine.begin() as conn:
                mark_claims(conn, job, won, status, at)
        return won


def failed_claims(conn: Connection, job: str) -> dict[str, str | None]:
    """period -> detail of the job's failed claims (few: only what an outage left undone)."""
    query = select(JobRun.period, JobRun.detail).where(JobRun.job == job, JobRun.status == "failed")
    return {str(p): d for p, d in conn.execute(query)}


def held_periods(
    conn: Connection, job: str, periods: Sequence[str], *, stale_before: datetime | None = None
) -> set[str]:
    """Those of `periods` claimed and not failed (nor stale, see `_failed`): read by key,
    never every claim of the job."""
    held: set[str] = set()
    for start in range(0, len(periods), 500):
        chunk = list(periods[start : start + 500])
        query = select(JobRun.period).where(
            JobRun.job == job, JobRun.period.in_(chunk), not_(_failed(stale_before))
        )
        held.update(str(p) for p in conn.execute(query).scalars())
    return held


def mark_claims(
    conn: Connection, job: str, periods: Sequence[str], status: str, at: datetime
) -> None:
    """Set the status of claims, keeping their detail (what a retry needs)."""
    for start in range(0, len(periods), 500):
        conn.execute(
            update(JobRun)
            .where(JobRun.job == job, JobRun.period.in_(list(periods[start : start + 500])))
            .values(status=status, finished_at=at)
        )


def fail_unfinished(
    conn: Connection, job: str, periods: Sequence[str], claimed_at: datetime, at: datetime
) -> None:
    """Mark failed those of `periods` still "running" under the claim made at `claimed_at`
    (a claim another worker took over since carries its own time and is left alone)."""
    for start in range(0, len(periods), 500):
        conn.execute(
            update(JobRun)
            .where(
                JobRun.job == job,
                JobRun.period.in_(list(periods[start : start + 500])),
                JobRun.status == "running",
                JobRun.claimed_at == claimed_at,
            )
            .values(status="failed", finished_at=at)
        )


def set_claim_detail(conn: Connection, job: str, period: str, detail: str) -> None:
    conn.execute(
        update(JobRun).where(JobRun.job == job, JobRun.period == period).values(detail=detail)
    )


def claim_detail(conn: Connection, job: str, period: str) -> str | None:
    query = select(JobRun.detail).where(JobRun.job == job, JobRun.period == period)
    return conn.execute(query).scalar_one_or_none()


def prune_claims(conn: Connection, before: datetime, *, keep_jobs: Sequence[str]) -> int:
    """Delete claims made before `before`, except those of `keep_jobs`; how many."""
    query = delete(JobRun).where(JobRun.claimed_at < before, JobRun.job.not_in(list(keep_jobs)))
    return int(conn.execute(query).rowcount or 0)
