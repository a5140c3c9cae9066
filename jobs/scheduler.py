"""APScheduler 3 inside `arbot serve` (or alone in `arbot worker`): it only decides *when*.

- Cron strings come from settings (ARBOT_DIGEST_CRON, ...) and run in the company time zone.
- The job store is the ledger database (SQLAlchemyJobStore, table `apscheduler_jobs`), so the
  next run time survives a restart.
- Misfire policy: `coalesce=True` (several missed runs become one) and the grace time each
  job declares in `jobs.table`. A worker that was down on Monday at 8:00 and comes back on
  Tuesday runs the digest once, late; the digest's period is the week (its closing Sunday), so
  the late post is the same digest and posts only if none did. At start a job already in the
  store keeps its stored next run time (it is not replaced, which would forget the missed
  run); only a changed cron string reschedules it.
- Several workers may share the store and each run a due job; that is fine because every job
  claims its (job, period) rows in `job_runs` before posting, so exactly one posts.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobEvent
from apscheduler.jobstores.base import ConflictingIdError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from jobs.runner import run_job
from jobs.table import JOBS
from tools.deps import ToolDeps

log = logging.getLogger(__name__)

TABLE = "apscheduler_jobs"
# The store keeps a textual reference to this function; it finds the deps of this process.
_DEPS: dict[str, ToolDeps] = {}


def scheduled_run(name: str) -> None:
    """What the scheduler calls (by reference, so the job store can persist it)."""
    deps = _DEPS.get("deps")
    if deps is None:
        log.error("event=job_without_deps job=%s", name)
        return
    # A failure propagates to the scheduler (its error event, its log); the next scheduled
    # run tries again.
    run_job(deps, name, now=datetime.now(UTC))


def make_scheduler(deps: ToolDeps) -> BackgroundScheduler:
    s = deps.settings
    return BackgroundScheduler(
        timezone=s.tz,
        jobstores={"default": SQLAlchemyJobStore(engine=deps.engine, tablename=TABLE)},
        job_defaults={"coalesce": True, "max_instances": 1},
    )


def _install(scheduler: BackgroundScheduler, deps: ToolDeps) -> None:
    s = deps.settings
    on = [job for job in JOBS if job.is_on(s)]
    for job in on:
        trigger = CronTrigger.from_crontab(job.cron(s), timezone=s.tz)
        stored = scheduler.get_job(job.name)
        if stored is not None:
            if str(stored.trigger) != str(trigger):
                scheduler.reschedule_job(job.name, trigger=trigger)
                log.info("event=job_rescheduled job=%s cron=%r", job.name, job.cron(s))
            continue
        with contextlib.suppress(ConflictingIdError):  # another worker added it just now
            scheduler.add_job(
                "jobs.scheduler:scheduled_run",
                trigger=trigger,
                args=[job.name],
                id=job.name,
                name=job.name,
                misfire_grace_time=job.grace_seconds,
                coalesce=True,
                max_instances=1,
            )
    wanted = {job.name for job in on}
    for stored in scheduler.get_jobs():
        if stored.id not in wanted:
            scheduler.remove_job(stored.id)  # switched off (cron setting "off")


def start_scheduler(
    deps: ToolDeps, app: Any = None, *, on_event: Callable[[JobEvent], None] | None = None
) -> Callable[[], None]:
    """Start the scheduler (an `arbot serve` start hook); returns its shutdown.

    `on_event` hears each run as it ends (executed, raised or missed), from the scheduler's
    thread; it is attached before the scheduler resumes, so no run is missed.
    """
    _DEPS["deps"] = deps
    scheduler = make_scheduler(deps)
    scheduler.start(paused=True)
    if on_event is not None:
        scheduler.add_listener(on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)
    _install(scheduler, deps)
    scheduler.resume()
    for job in scheduler.get_jobs():
        log.info("event=job_scheduled job=%s next=%s", job.id, job.next_run_time)

    def stop() -> None:
        scheduler.shutdown(wait=True)  # waits for a run in progress to finish

    return stop
