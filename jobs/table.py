"""Every scheduled job, declared once.

The scheduler installs each job with its cron string (read from the settings attribute named
here, in the company time zone; "off" switches it off) and its misfire grace: how late a
missed run may still happen after a worker was down. `arbot jobs run` offers these names and
`arbot jobs list` prints them with their cron and what they do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobs.at_risk_scan import run_at_risk_scan
from jobs.dispute_watch import run_dispute_watch
from jobs.dunning_sequence import run_dunning
from jobs.entries import (
    run_outbox_job,
    run_quickbooks_sync_job,
    run_stripe_sync_job,
    run_xero_sync_job,
)
from jobs.reconcile_weekly import run_weekly_reconcile
from jobs.retention import run_retention
from jobs.weekly_digest import run_weekly_digest
from tools.settings import Settings

JobFn = Callable[..., Any]
HOUR = 3600
DAY = 24 * HOUR
_OFF = ("", "off", "none")


def _nothing_posted(result: Any) -> bool:
    """A job returns None when its period was already claimed or nothing was due, else what it
    posted (a list of ids, or a message ts)."""
    return result is None or result == []


@dataclass(frozen=True)
class Job:
    name: str
    run: JobFn
    cron_setting: str
    grace_seconds: int
    description: str
    nothing_done: Callable[[Any], bool] = _nothing_posted
    """Whether a run's result means it did nothing (`arbot jobs run` says so in words)."""

    def cron(self, settings: Settings) -> str:
        return str(getattr(settings, self.cron_setting))

    def is_on(self, settings: Settings) -> bool:
        return self.cron(settings).strip().lower() not in _OFF


# A week's grace for the digest: its period is the week, so a late run is the same digest.
# A day for daily jobs; an hour for frequent ones, whose next run comes soon anyway.
JOBS: tuple[Job, ...] = (
    Job(
        "weekly-digest",
        run_weekly_digest,
        "digest_cron",
        7 * DAY,
        "posts last week's aging, DSO trend, CEI and top overdue to the digest channel",
    ),
    Job(
        "at-risk-scan",
        run_at_risk_scan,
        "at_risk_cron",
        DAY,
        "alerts each account once when it enters high risk, to the alerts channel and its owner",
    ),
    Job(
        "dispute-watch",
        run_dispute_watch,
        "dispute_watch_cron",
        HOUR,
        "alerts new disputes; reminds of disputes open too long or with evidence due soon",
        nothing_done=lambda result: not (result["new"] or result["reminded"]),
    ),
    Job(
        "dunning",
        run_dunning,
        "dunning_cron",
        DAY,
        "drafts the reminder each invoice's dunning stage owes and posts it for approval",
    ),
    Job(
        "stripe-sync",
        run_stripe_sync_job,
        "stripe_sync_cron",
        HOUR,
        "pulls what changed in Stripe since the last sync (skipped without STRIPE_API_KEY)",
    ),
    Job(
        "quickbooks-sync",
        run_quickbooks_sync_job,
        "quickbooks_sync_cron",
        HOUR,
        "pulls what changed in QuickBooks Online (skipped without ARBOT_QUICKBOOKS_REALM_ID)",
    ),
    Job(
        "xero-sync",
        run_xero_sync_job,
        "xero_sync_cron",
        HOUR,
        "pulls what changed in Xero (skipped without ARBOT_XERO_TENANT_ID)",
    ),
    Job(
        "weekly-reconcile",
        run_weekly_reconcile,
        "reconcile_cron",
        7 * DAY,
        "posts last week's differences between the sources (CSV in the thread), or in balance",
    ),
    Job(
        "outbox",
        run_outbox_job,
        "outbox_cron",
        HOUR,
        "sends approved actions and retries failed ones",
    ),
    Job(
        "retention",
        run_retention,
        "retention_cron",
        DAY,
        "deletes seen event ids, job claims, thread memory and LLM usage older than "
        "ARBOT_RETENTION_DAYS",
        nothing_done=lambda result: result.total == 0,
    ),
)
NAMES = tuple(job.name for job in JOBS)


class UnknownJob(ValueError):
    pass


def job_named(name: str) -> Job:
    for job in JOBS:
        if job.name == name:
            return job
    raise UnknownJob(f"no job {name!r}; one of: {', '.join(NAMES)}")
