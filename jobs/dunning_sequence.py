"""Dunning sequence: each reminder the stages owe now is drafted and posted for approval.

Which reminders are owed is `tools.dunning.eligibility.due_reminders` (the same rule a
person's request goes through); this job only claims each (invoice, stage), so two workers
or a re-run never propose it twice, proposes it and posts the card. It never sends.

A claim is done once its card is in Slack. When anything fails (drafting, the Slack client,
a post), that claim and the ones not reached yet are marked failed and the next run takes
them over; a reminder already proposed
keeps its action id on the claim, so the retry posts that card instead of drafting another.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from slack_sdk import WebClient

from bot import posting
from db.models import ActionStatus
from jobs import claim
from tools.actions import SYSTEM, ActionInfo, load
from tools.deps import ToolDeps
from tools.dunning import DunningError, DunningInput, propose_dunning_email
from tools.dunning.eligibility import due_reminders

log = logging.getLogger(__name__)
JOB = "dunning"


def run_dunning(deps: ToolDeps, *, now: datetime, client: WebClient | None = None) -> list[int]:
    """Ids of the reminders proposed (and posted for approval) in this run."""
    due = {f"{c.facts.id}:{c.stage}": c for c in due_reminders(deps, now=now)}
    # oldest due first, as the eligibility rule lists them; then the drafts whose card a
    # failed run did not post (a pending draft keeps its invoice off the due list)
    unposted = [p for p, d in claim.failed(deps, JOB).items() if d and p not in due]
    proposed: list[int] = []
    with claim.claims_to_post(deps, JOB, [*due, *unposted], now=now) as won:
        slack = client
        for period in won:
            c = due.get(period)
            action = _proposed(deps, period, c.facts.id if c else None, now=now)
            if action is None:
                claim.finish(deps, JOB, period, now=now, ok=True, detail="skipped")
                continue
            slack = slack or posting.client_for(deps.settings)
            post = partial(posting.post_dunning_card, slack, deps, action)
            claim.post_together(deps, JOB, [period], post, now=now)
            proposed.append(action.id)
    log.info("event=dunning_run due=%d proposed=%d", len(due), len(proposed))
    return proposed


def _proposed(
    deps: ToolDeps, period: str, invoice_id: int | None, *, now: datetime
) -> ActionInfo | None:
    """The reminder of this claim: drafted by an earlier run whose post failed, or now."""
    earlier = claim.detail(deps, JOB, period)
    if earlier and earlier.isdigit():
        action = load(deps, int(earlier))
        return action if action.status == ActionStatus.PROPOSED else None
    if invoice_id is None:
        return None
    try:
        action = propose_dunning_email(
            deps, DunningInput(invoice_id=invoice_id, requested_by=SYSTEM), now=now
        )
    except DunningError as exc:
        log.warning("event=dunning_skipped period=%s reason=%s", period, exc)
        return None
    claim.note(deps, JOB, period, str(action.id))
    return action
