"""Dunning sequence: each reminder the stages owe now is drafted and posted for approval.

Which reminders are owed is `tools.dunning.eligibility.due_reminders` (the same rule a
person's request goes through); this job only claims each (invoice, stage), so two workers
or a re-run never propose it twice, proposes it and posts the card. It never sends.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient

from bot import posting
from jobs import claim
from tools.actions import SYSTEM
from tools.deps import ToolDeps
from tools.dunning import DunningError, DunningInput, propose_dunning_email
from tools.dunning.eligibility import due_reminders

log = logging.getLogger(__name__)
JOB = "dunning"


def run_dunning(deps: ToolDeps, *, now: datetime, client: WebClient | None = None) -> list[int]:
    """Ids of the reminders proposed (and posted for approval) in this run."""
    due = {f"{c.facts.id}:{c.stage}": c for c in due_reminders(deps, now=now)}
    won = set(claim.claim_many(deps, JOB, list(due), now=now))
    slack = None
    proposed = []
    for period, c in due.items():  # oldest due first, as the eligibility rule lists them
        if period not in won:
            continue
        try:
            action = propose_dunning_email(
                deps, DunningInput(invoice_id=c.facts.id, requested_by=SYSTEM), now=now
            )
        except DunningError as exc:
            log.warning(
                "event=dunning_skipped invoice=%s stage=%s reason=%s", c.facts.id, c.stage, exc
            )
            continue
        slack = slack or client or posting.client_for(deps.settings)
        posting.post_dunning_card(slack, deps, action)
        proposed.append(action.id)
    log.info("event=dunning_run due=%d proposed=%d", len(due), len(proposed))
    return proposed
