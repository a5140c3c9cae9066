"""APScheduler 3 inside `arbot serve` (or alone in `arbot worker`): it only decides *when*.

- Cron strings come from settings (ARBOT_DIGEST_CRON, ...) and run in the company time zone.
- The job store is the ledger database (SQLAlchemyJobStore, table `apscheduler_jobs`), so the
  next run time survives a restart.
- Misfire policy: `coalesce=True` (several missed runs become one) and a grace time per job
  (the digest: 7 days; daily jobs: 1 day; frequent ones: 1 hour). A worker that was down on
  Monday at 8:00 and comes back on Tuesday runs the digest once, late; the digest's period is
  the week (its closing Sunday), so the late post is the same digest and posts only if none
  did. At start a job already in the store keeps its stored next run time (it is not
  replaced, which would forget the missed run); only a changed cron string reschedules it.
- Several workers may share the store and each run a due job; that is fine because every job
  claims its (job, period) rows in `job_runs` before posting, so exactly one posts.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.jobstores.base import ConflictingIdError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from jobs.runner import JOBS, run_job
from tools.deps import ToolDeps
from tools.settings import Settings

log = logging.getLogger(__name__)

TABLE = "apscheduler_jobs"
GRACE_SECONDS = {
    "weekly-digest": 7 * 86400,
    "at-risk-scan": 86400,
    "dunning": 86400,
    "dispute-watch": 3600,
    "stripe-sync": 3600,
    "outbox": 3600,
}
# The store keeps a textual reference to this function; it finds the deps of this process.
_DEPS: dict[str, ToolDeps] = {}


def scheduled_run(name: str) -> None:
    """What the scheduler calls (by reference, so the job store can persist it)."""
    deps = _DEPS.get("deps")
    if deps is None:
        log.error("event=job_without_deps job=%s", name)
        return
    # A failure is logged by run_job; the next scheduled run tries again.
    with contextlib.suppress(Exception):
        run_job(deps, name, now=datetime.now(UTC))


def crons(settings: Settings) -> dict[str, str]:
    """Job name -> cron string, for the jobs that are switched on ("off" switches one off)."""
    table = {
        "weekly-digest": settings.digest_cron,
        "at-risk-scan": settings.at_risk_cron,
        "dispute-watch": settings.dispute_watch_cron,
        "dunning": settings.dunning_cron,
        "stripe-sync": settings.stripe_sync_cron,
        "outbox": settings.outbox_cron,
    }
    return {
        name: cron
        for name, cron in table.items()
        if cron.strip().lower() not in ("", "off", "none") and name in JOBS
    }


def make_scheduler(deps: ToolDeps) -> BackgroundScheduler:
    s = deps.settings
    return BackgroundScheduler(
        timezone=s.tz,
        jobstores={"default": SQLAlchemyJobStore(engine=deps.engine, tablename=TABLE)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
    )


def _install(scheduler: BackgroundScheduler, deps: ToolDeps) -> None:
    tz = deps.settings.tz
    for name, cron in crons(deps.settings).items():
        trigger = CronTrigger.from_crontab(cron, timezone=tz)
        existing = scheduler.get_job(name)
        if existing is not None:
            if str(existing.trigger) != str(trigger):
                scheduler.reschedule_job(name, trigger=trigger)
                log.info("event=job_rescheduled job=%s cron=%r", name, cron)
            continue
        with contextlib.suppress(ConflictingIdError):  # another worker added it just now
            scheduler.add_job(
                "jobs.scheduler:scheduled_run",
                trigger=trigger,
                args=[name],
                id=name,
                name=name,
                misfire_grace_time=GRACE_SECONDS.get(name, 3600),
                coalesce=True,
                max_instances=1,
            )
    for job in scheduler.get_jobs():
        if job.id not in crons(deps.settings):
            scheduler.remove_job(job.id)  # switched off (cron setting "off")


def start_scheduler(deps: ToolDeps, app: Any = None) -> Callable[[], None]:
    """Start the scheduler (an `arbot serve` start hook); returns its shutdown."""
    _DEPS["deps"] = deps
    scheduler = make_scheduler(deps)
    scheduler.start(paused=True)
    _install(scheduler, deps)
    scheduler.resume()
    for job in scheduler.get_jobs():
        log.info("event=job_scheduled job=%s next=%s", job.id, job.next_run_time)

    def stop() -> None:
        scheduler.shutdown(wait=True)

    return stop
