"""Daily at-risk scan: alert each account once when it enters high risk; and each account
that goes over its credit limit, or starts heading to it (jobs.credit_scan).

The scan itself is claimed per day (two workers do not both score the ledger). Each alert
is claimed per customer ("risk-alert", "customer:ID"); the claim stays while the account is
high risk, so it is not alerted again the next day, and is released once it drops below,
so a later return to high risk alerts again. Snoozed accounts are skipped unclaimed.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from functools import partial

from slack_sdk import WebClient

from bot import posting
from jobs import claim
from jobs.credit_scan import flag_credit_limits
from tools.clock import today
from tools.deps import ToolDeps
from tools.risk import Balances
from tools.risk_money import ScoreInMoney, scored, scores_in_money
from tools.watch import RISK_ALERT_JOB, snoozed_customers

log = logging.getLogger(__name__)
JOB = "at-risk-scan"
ALERT = RISK_ALERT_JOB


def run_at_risk_scan(
    deps: ToolDeps, *, now: datetime, client: WebClient | None = None
) -> list[int] | None:
    """Customer ids alerted in this run; None when today's scan already ran."""
    s = deps.settings
    as_of = today(s.tz, now)
    with claim.claimed_once(deps, JOB, as_of.isoformat(), now=now) as mine:
        if not mine:
            return None
        balances: Balances = {}  # read by the risk pass, for the credit limits below
        with deps.sessions() as session:
            # in the reporting currency, the largest money at risk alerted first
            high_risk = scored(session, s, as_of, min_level="high", balances_out=balances)
            scores = scores_in_money(session, s, high_risk, as_of, strict=False)
        high = {sc.customer_pk: sc for sc in scores}
        alerted = claim.claimed(deps, ALERT, "customer:")
        left = [p for p in alerted if int(p.split(":", 1)[1]) not in high]
        claim.release(deps, ALERT, left)
        snoozed = snoozed_customers(deps, as_of)
        # not alerted yet, or alerted by a run whose post failed
        entering = [f"customer:{pk}" for pk in high if pk not in snoozed]
        with claim.claims_to_post(deps, ALERT, entering, now=now) as won:
            if won:
                _post(deps, client, won, high, as_of, now=now)
        flag_credit_limits(deps, as_of, now=now, client=client, balances=balances)
        log.info(
            "event=at_risk_scan as_of=%s high=%d alerted=%d released=%d",
            as_of,
            len(high),
            len(won),
            len(left),
        )
        return [int(p.split(":", 1)[1]) for p in won]


def _post(
    deps: ToolDeps,
    client: WebClient | None,
    won: list[str],
    high: dict[int, ScoreInMoney],
    as_of: date,
    *,
    now: datetime,
) -> None:
    """An alert each for the first MAX_ALERTS accounts (each claim done once it is posted),
    then one list of the rest (done together); what a failure left unposted is retried."""
    s = deps.settings
    slack = client or posting.client_for(s)
    each, listed = won[: posting.MAX_ALERTS], won[posting.MAX_ALERTS :]

    def alert(period: str) -> None:
        posting.post_risk_alert(slack, s.alerts_channel, high[_pk(period)], as_of)

    claim.post_claimed(deps, ALERT, each, alert, now=now)
    if listed:
        scores = [high[_pk(p)] for p in listed]
        post = partial(posting.post_risk_list, slack, s.alerts_channel, scores, as_of)
        claim.post_together(deps, ALERT, listed, post, now=now)


def _pk(period: str) -> int:
    return int(period.split(":", 1)[1])
