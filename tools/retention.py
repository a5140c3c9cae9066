"""What the bot forgets, and when: its own bookkeeping older than ARBOT_RETENTION_DAYS.

Pruned by age: seen Slack and Stripe event ids, job claims, thread memory and LLM usage.
Never the ledger, actions, sent emails or the audit log.

A job claim that records a post is only needed while the same post could be attempted again,
and retention (at least 14 days) outlasts every such window: the longest misfire grace (7 days,
the digest), a dispute's "new" window (ARBOT_TARGET_DISPUTE_HOURS), a day's reminder. Claims
that hold state instead are kept while the state lasts, whatever their age: an account's
at-risk alert claim until the scan releases it (the account left high risk), a snooze until its
last day has passed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field

from db.bot_state import prune_bot_state
from db.jobs import prune_claims
from tools.clock import today
from tools.deps import ToolDeps
from tools.watch import RISK_ALERT_JOB, SNOOZE_JOB, forget_expired_snoozes

# claims that stand for a state, not a post (see the module's docstring)
STATE_CLAIMS = (RISK_ALERT_JOB, SNOOZE_JOB)


class RetentionResult(BaseModel):
    before: datetime = Field(description="rows older than this were deleted")
    deleted: dict[str, int] = Field(description="rows deleted per table")

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


def prune(deps: ToolDeps, *, now: datetime) -> RetentionResult:
    """Delete the bot's bookkeeping older than the retention, and snoozes that have ended."""
    before = now - timedelta(days=deps.settings.retention_days)
    with deps.engine.begin() as conn:
        deleted = prune_bot_state(conn, before)
        deleted["job_runs"] = prune_claims(conn, before, keep_jobs=STATE_CLAIMS)
    deleted["job_runs"] += forget_expired_snoozes(deps, today(deps.settings.tz, now))
    return RetentionResult(before=before, deleted=deleted)
