"""Dunning sequence: when an invoice reaches a stage, draft the reminder and ask for approval.

Stages are day offsets from the due date (ARBOT_DUNNING_STAGES_DAYS, e.g. -3,1,7,15,30). The
job proposes (tools.dunning) and posts the approval card; it never sends. Skipped: disputed,
paid, do-not-dun and promised invoices (a promise pauses reminders until its date). The next
stage waits until the previous reminder was decided (approved, rejected or expired); an
invoice first seen late gets the stage it has reached, not every earlier one. Each
(invoice, stage) is claimed, so two workers or a re-run never propose it twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient

from bot import posting
from db import actions_sql as aq
from db import jobs_sql as q
from db.models import ActionStatus
from jobs import claim
from tools.actions import SYSTEM
from tools.clock import day_cut, today
from tools.deps import ToolDeps
from tools.dunning import DunningError, DunningInput, propose_dunning_email, stage_of

log = logging.getLogger(__name__)
JOB = "dunning"


def due_stages(deps: ToolDeps, *, now: datetime) -> list[tuple[int, int]]:
    """(invoice id, stage index) of every reminder due now under the rules above."""
    s = deps.settings
    stages = s.dunning_stages_days
    as_of = today(s.tz, now)
    with deps.sessions() as session:
        facts = aq.invoice_facts(session, cut=day_cut(as_of, s.tz), today=as_of, only_open=True)
        facts = [f for f in facts if f.open_minor > 0 and (as_of - f.due_on).days >= stages[0]]
        blocked_customers = q.do_not_dun_customers(session)
        states = q.dunning_states(session, [f.id for f in facts])
    due = []
    for f in facts:
        if f.disputed or f.promised_on is not None or f.customer_id in blocked_customers:
            continue
        stage = stage_of((as_of - f.due_on).days, stages)
        last = states.get(f.id)
        if last is not None and (_undecided(last, now) or last.stage >= stage):
            continue
        due.append((f.id, stage))
    return due


def _undecided(last: q.DunningState, now: datetime) -> bool:
    """Still waiting for a person; a proposal past its expiry counts as decided (expired)."""
    if last.status != ActionStatus.PROPOSED:
        return False
    return last.expires_at is None or last.expires_at > now


def run_dunning(deps: ToolDeps, *, now: datetime, client: WebClient | None = None) -> list[int]:
    """Ids of the reminders proposed (and posted for approval) in this run."""
    s = deps.settings
    due = due_stages(deps, now=now)
    won = set(claim.claim_many(deps, JOB, [f"{iid}:{stage}" for iid, stage in due], now=now))
    slack = None
    proposed = []
    for iid, stage in due:
        if f"{iid}:{stage}" not in won:
            continue
        try:
            action = propose_dunning_email(
                deps, DunningInput(invoice=str(iid), requested_by=SYSTEM), now=now
            )
        except DunningError as exc:
            log.warning("event=dunning_skipped invoice=%s stage=%s reason=%s", iid, stage, exc)
            continue
        slack = slack or client or posting.client_for(s)
        posting.post_dunning_card(slack, deps, action)
        proposed.append(action.id)
    log.info("event=dunning_run due=%d proposed=%d", len(due), len(proposed))
    return proposed
