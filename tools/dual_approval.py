"""Dual approval of write-offs: two approvers once a customer's write-offs of the last
DUAL_APPROVAL_WINDOW reach ARBOT_DUAL_APPROVAL_MINOR, all in the reporting currency at the
rate on or before today, so neither a currency nor splitting one loss into several write-offs
slips under the threshold.

Weighed when a write-off is proposed (the card says how many approvers it needs) and again in
the transaction of the approval that would decide it: two write-offs proposed at the same
moment are each weighed before the other exists, and only the second weighing sees both.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from db.actions import recent_write_offs
from tools.clock import today
from tools.metrics import Converter
from tools.settings import Settings

# A customer's write-offs within this window count together against the dual-approval
# threshold, so one loss split into several write-offs still needs two approvers.
DUAL_APPROVAL_WINDOW = timedelta(days=30)


class DualApproval(BaseModel):
    """Why a write-off needs one or two approvers, in the reporting currency."""

    currency: str
    threshold_minor: int
    amount_minor: int = Field(description="this write-off, converted")
    recent_minor: int = Field(description="the customer's other write-offs in the window")
    recent_count: int
    approvals_needed: int


def weigh(
    session: Session,
    s: Settings,
    *,
    customer_id: int,
    amounts: dict[str, int],
    now: datetime,
    action_id: int | None = None,
) -> DualApproval:
    """This write-off (`amounts`: currency -> open minor units) and the customer's others.

    Counted: write-offs done, executing, approved, or proposed and not yet expired (each may
    still happen), proposed or decided within the window; rejected, expired, cancelled and
    failed ones never happened. When an approval re-weighs an existing proposal (`action_id`),
    other proposals that already need two approvers are left out: they cannot pass on one
    approval, and counting them would make an earlier, smaller write-off need a second
    approver merely because a larger one was proposed after it.
    Raises tools.metrics.MetricsError when a currency has no rate.
    """
    recent = recent_write_offs(
        session, customer_id, since=now - DUAL_APPROVAL_WINDOW, now=now, exclude_id=action_id
    )
    if action_id is not None:
        recent = [p for p in recent if not (p.pending and p.approvals_needed > 1)]
    fx = Converter(session, s.reporting_currency, today(s.tz, now))
    amount = fx.minor(amounts)
    others = sum(fx.minor({p.currency: p.open_minor}) for p in recent)
    return DualApproval(
        currency=s.reporting_currency,
        threshold_minor=s.dual_approval_minor,
        amount_minor=amount,
        recent_minor=others,
        recent_count=len(recent),
        approvals_needed=2 if amount + others >= s.dual_approval_minor else 1,
    )
