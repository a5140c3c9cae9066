"""The credit-limit part of the daily at-risk scan: each account over its limit, or heading to
it within 30 days, is alerted once a day while it stays so.

Each alert is claimed per day and account ("credit-alert", "DAY:customer:ID"), so a rerun of
the scan, a second worker or a retry after a failed post never alerts an account twice in a
day; the next day's scan alerts again if it still is.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from functools import partial

from slack_sdk import WebClient

from bot import posting
from jobs import claim
from tools.credit import credit_positions
from tools.deps import ToolDeps

log = logging.getLogger(__name__)
ALERT = "credit-alert"


def flag_credit_limits(
    deps: ToolDeps, as_of: date, *, now: datetime, client: WebClient | None = None
) -> list[int]:
    """Customer ids alerted now (over or trending, not yet alerted today)."""
    s = deps.settings
    with deps.sessions() as session:
        flagged = {
            p.customer_pk: p for p in credit_positions(session, as_of, s.tz) if p.status != "ok"
        }
    periods = [f"{as_of}:customer:{pk}" for pk in flagged]
    with claim.claims_to_post(deps, ALERT, periods, now=now) as won:
        if won:
            slack = client or posting.client_for(s)

            def alert(period: str) -> None:
                posting.post_credit_alert(slack, s.alerts_channel, flagged[_pk(period)], as_of)

            # An alert each for the first few; the rest as one list, so Slack is not flooded.
            each, listed = won[: posting.MAX_ALERTS], won[posting.MAX_ALERTS :]
            claim.post_claimed(deps, ALERT, each, alert, now=now)
            if listed:
                rest = [flagged[_pk(p)] for p in listed]
                post = partial(posting.post_credit_list, slack, s.alerts_channel, rest, as_of)
                claim.post_together(deps, ALERT, listed, post, now=now)
    log.info("event=credit_scan as_of=%s flagged=%d alerted=%d", as_of, len(flagged), len(won))
    return [_pk(p) for p in won]


def _pk(period: str) -> int:
    return int(period.rsplit(":", 1)[1])
