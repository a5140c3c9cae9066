"""The credit-limit part of the daily at-risk scan: an account is alerted when its state
gets worse (fine to heading for its limit within 30 days, or either to over it), not every
day it stays so: a standing breach is for the "who is over their credit limit?" list.

Each alert is claimed per account and state ("credit-alert", "customer:ID:trending" or
"customer:ID:over"), so a rerun, a second worker or a retry after a failed post never alerts
twice. The claim is held while the state lasts; back under the limit releases the "over"
claim (a later breach alerts again), back to fine releases both. Going from over to heading
holds "trending" unposted, since that is an improvement. Accounts whose open AR converts to
less than ARBOT_RISK_MIN_BALANCE are not alerted, the same floor the risk alerts use.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from functools import partial

from slack_sdk import WebClient

from bot import posting
from jobs import claim
from tools.credit import CreditPosition, credit_positions
from tools.deps import ToolDeps
from tools.metrics import Converter
from tools.risk import Balances
from tools.risk_money import is_material

log = logging.getLogger(__name__)
ALERT = "credit-alert"


def flag_credit_limits(
    deps: ToolDeps,
    as_of: date,
    *,
    now: datetime,
    client: WebClient | None = None,
    balances: Balances | None = None,
) -> list[int]:
    """Customer ids alerted now: entered "trending" or "over" since their last alert.
    `balances`: open amounts the caller read already (`tools.credit.credit_positions`)."""
    s = deps.settings
    with deps.sessions() as session:
        fx = Converter(session, s.reporting_currency, as_of)
        flagged = {
            p.customer_pk: p
            for p in credit_positions(session, as_of, s.tz, balances=balances, flagged_only=True)
            if is_material(fx, s, p.currency, p.exposure_minor)
        }
    held = claim.claimed(deps, ALERT, "customer:")
    left = [p for p in held if _state(flagged, p) < _level(p)]
    claim.release(deps, ALERT, left)
    improved = [_period(pk, "trending") for pk in flagged if _period(pk, "over") in left]
    claim.hold(deps, ALERT, improved, now=now)
    periods = [_period(pk, p.status) for pk, p in flagged.items()]
    with claim.claims_to_post(deps, ALERT, periods, now=now) as won:
        if won:
            _post(deps, client, won, flagged, as_of, now=now)
    log.info(
        "event=credit_scan as_of=%s flagged=%d alerted=%d released=%d",
        as_of,
        len(flagged),
        len(won),
        len(left),
    )
    return [_pk(p) for p in won]


def _post(
    deps: ToolDeps,
    client: WebClient | None,
    won: list[str],
    flagged: dict[int, CreditPosition],
    as_of: date,
    *,
    now: datetime,
) -> None:
    s = deps.settings
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


_LEVELS = {"trending": 1, "over": 2}


def _period(pk: int, status: str) -> str:
    return f"customer:{pk}:{status}"


def _pk(period: str) -> int:
    return int(period.split(":")[1])


def _level(period: str) -> int:
    return _LEVELS.get(period.rsplit(":", 1)[1], 0)


def _state(flagged: dict[int, CreditPosition], period: str) -> int:
    """The account's level now: 2 over, 1 heading, 0 fine or not material."""
    p = flagged.get(_pk(period))
    return 0 if p is None else _LEVELS[p.status]
