"""Cash application cards posted by the scheduler: every bank line waiting for a decision that
no card shows yet (imported while Slack was down or not set up, or by another process) gets
one, grouped per statement. Each line is claimed ("cash-cards", line id) before it is posted,
so `arbot bank import`, this job and two workers card a line once; a failed post leaves its
claims failed and the next run posts them.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient

from bot import posting
from db import bank as bank_db
from jobs import claim
from tools.deps import ToolDeps

log = logging.getLogger(__name__)
JOB = "cash-cards"


def post_cash_cards_once(
    deps: ToolDeps, txn_ids: list[int], *, now: datetime, client: WebClient | None = None
) -> list[int]:
    """Card the given lines that no card shows yet and nobody else is carding; the ids posted."""
    s = deps.settings
    with claim.claims_to_post(deps, JOB, [str(i) for i in txn_ids], now=now) as won:
        if not won:
            return []
        # A line carded since it was read (by a run that has finished) is not carded again.
        with deps.sessions() as session:
            todo = bank_db.uncarded_txn_ids(session, [int(p) for p in won])
        if not todo:
            claim.post_together(deps, JOB, won, lambda: None, now=now)  # nothing owed
            return []
        slack = client or posting.client_for(s)
        claim.post_together(
            deps, JOB, won,
            lambda: posting.post_cash_lines(slack, deps, s.approvals_channel, todo), now=now,
        )  # fmt: skip
    log.info("event=cash_cards posted=%d", len(todo))
    return todo


def run_cash_cards(
    deps: ToolDeps, *, now: datetime, client: WebClient | None = None
) -> list[int] | None:
    """Card every waiting line without a card; skipped until Slack and the channel are set."""
    s = deps.settings
    if client is None and (s.slack_bot_token is None or not s.approvals_channel):
        log.info("event=cash_cards_skipped reason=not_configured")
        return None
    with deps.sessions() as session:
        ids = bank_db.uncarded_txn_ids(session)
    return post_cash_cards_once(deps, ids, now=now, client=client) if ids else []
