"""Whether a promise to pay was kept: one rule for the risk score, the customer view and the
"broken promises" answer.

A promise is kept when what was paid toward it (to its invoice, or to the account in its
currency when it names none) from the moment it was recorded to the end of the promised day
reaches the promised amount. It is broken when its day has passed without that, or when a
person marked it broken; until then it is open. Nobody has to mark a promise kept: a customer
who paid as promised is never counted against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from db.customers import customer_facts
from db.models import PromiseStatus
from db.promises import PromiseFacts, promises_due
from tools.clock import AsOfDate, day_cut, today
from tools.deps import ToolDeps
from tools.metrics import Converter

PromiseState = Literal["open", "kept", "broken"]
WINDOW_DAYS = 30  # the answer's default look-back: the promises a collector still acts on
# How long before its day a promise can have been recorded, for reading the payments toward
# it: promises are refused beyond ARBOT_PROMISE_MAX_DAYS ahead, a year is ample.
RECORDED_AHEAD = timedelta(days=366)


def paid_by_promised_day(promises: Sequence[PromiseFacts], tz: ZoneInfo) -> dict[int, int]:
    """Per promise, what was paid toward it from the day it was recorded to the end of its
    day, each payment counted once: the promises of a customer take, oldest day first, what
    earlier ones left of each payment. Days are local: a payment booked on the day the promise
    was made (bank and books payments carry midnight) counts toward it."""
    used: dict[int, int] = {}
    out: dict[int, int] = {}
    for p in sorted(promises, key=lambda x: (x.promised_on, x.id)):
        start, end = p.created_at.astimezone(tz).date(), day_cut(p.promised_on, tz)
        got = 0
        for pay_id, at, amount in p.payments:
            if got >= p.amount_minor:
                break
            if at >= end or at.astimezone(tz).date() < start:
                continue
            take = min(amount - used.get(pay_id, 0), p.amount_minor - got)
            if take > 0:
                used[pay_id] = used.get(pay_id, 0) + take
                got += take
        out[p.id] = got
    return out


def promise_state(p: PromiseFacts, paid: int, as_of: date) -> PromiseState:
    """The state at the end of `as_of`, given `paid` from paid_by_promised_day."""
    if p.status == PromiseStatus.KEPT or paid >= p.amount_minor:
        return "kept"
    if p.status == PromiseStatus.BROKEN or p.promised_on < as_of:
        return "broken"
    return "open"


def owed_after(session: Session, day: date, tz: ZoneInfo) -> list[PromiseFacts]:
    """The promises still owed after the end of `day`, as a forecast at `day` reads them:
    recorded by then, dated after it, the latest recorded per invoice (or per account and
    currency) replacing earlier ones, each with `amount_minor` lowered by what was paid toward
    it by the end of `day` (paid_by_promised_day's rule), soonest first."""
    cut = day_cut(day, tz)
    promises = promises_due(
        session,
        day,
        day + RECORDED_AHEAD,
        cut,
        paid_from=day_cut(day - RECORDED_AHEAD, tz),
        recorded_before=cut,
    )
    latest: dict[tuple[int, int | None, str], PromiseFacts] = {}
    for p in sorted(promises, key=lambda x: (x.created_at, x.id)):
        latest[(p.customer_id, p.invoice_id, p.currency)] = p
    standing = list(latest.values())
    paid = paid_by_promised_day(standing, tz)
    return [
        replace(p, amount_minor=p.amount_minor - paid[p.id])
        for p in sorted(standing, key=lambda x: (x.promised_on, x.id))
        if p.amount_minor > paid[p.id]
    ]


def promise_states(
    session: Session,
    since: date | None,
    as_of: date,
    tz: ZoneInfo,
    customer_id: int | None = None,
    until: date | None = None,
) -> list[tuple[PromiseFacts, int, PromiseState]]:
    """The promises dated in (since, until or as_of], each with what was paid by its day (up
    to the end of `as_of`) and its state at `as_of`."""
    paid_from = None if since is None else day_cut(since - RECORDED_AHEAD, tz)
    promises = promises_due(
        session,
        since,
        until or as_of,
        day_cut(as_of, tz),
        paid_from=paid_from,
        customer_id=customer_id,
    )
    paid = paid_by_promised_day(promises, tz)
    return [(p, paid[p.id], promise_state(p, paid[p.id], as_of)) for p in promises]


def broken_counts(session: Session, since: date, as_of: date, tz: ZoneInfo) -> dict[int, int]:
    """Per customer, the promises dated in (since, as_of] broken at the end of `as_of`."""
    out: dict[int, int] = {}
    for p, _paid, state in promise_states(session, since, as_of, tz):
        if state == "broken":
            out[p.customer_id] = out.get(p.customer_id, 0) + 1
    return out


class BrokenPromisesInput(BaseModel):
    as_of: AsOfDate | None = Field(None, description="end-of-day date; today if empty")
    days: int = Field(WINDOW_DAYS, ge=1, le=366, description="promises dated in the last N days")


class BrokenPromise(BaseModel):
    customer_id: str = Field(description="the customer's import id")
    customer_name: str
    owner_slack_id: str | None
    invoice_number: str | None = Field(description="None: a promise for the whole account")
    currency: str
    promised_minor: int
    promised_on: date
    paid_by_then_minor: int = Field(description="paid toward it by the end of the promised day")
    short_minor: int = Field(description="promised_minor - paid_by_then_minor")
    short_reporting_minor: int = Field(description="short_minor in the reporting currency")
    days_late: int = Field(description="days from the promised day to as_of")


class BrokenPromises(BaseModel):
    as_of: date
    days: int
    currency: str
    short_total_minor: int = Field(description="what the broken promises fell short by, converted")
    count: int
    promises: list[BrokenPromise] = Field(description="the largest shortfall first")


def broken_promises(deps: ToolDeps, args: BrokenPromisesInput) -> BrokenPromises:
    """The promises dated in the last `days` days to `as_of` that were broken."""
    s = deps.settings
    as_of = args.as_of or today(s.tz)
    since = as_of - timedelta(days=args.days)
    with deps.sessions() as session:
        broken = [
            (p, paid)
            for p, paid, state in promise_states(session, since, as_of, s.tz)
            if state == "broken"
        ]
        facts = customer_facts(session, sorted({p.customer_id for p, _ in broken}))
        fx = Converter(session, s.reporting_currency, as_of)
        lines = []
        for p, paid in broken:
            short = max(p.amount_minor - paid, 0)
            c = facts[p.customer_id]
            lines.append(
                BrokenPromise(
                    customer_id=c.external_id,
                    customer_name=c.name,
                    owner_slack_id=c.owner_slack_id,
                    invoice_number=p.invoice_number,
                    currency=p.currency,
                    promised_minor=p.amount_minor,
                    promised_on=p.promised_on,
                    paid_by_then_minor=paid,
                    short_minor=short,
                    short_reporting_minor=fx.minor({p.currency: short}),
                    days_late=(as_of - p.promised_on).days,
                )
            )
        per_cur: dict[str, int] = {}
        for line in lines:
            per_cur[line.currency] = per_cur.get(line.currency, 0) + line.short_minor
        total = fx.minor(per_cur)
    lines.sort(key=lambda x: (-x.short_reporting_minor, x.promised_on, x.customer_name))
    return BrokenPromises(
        as_of=as_of,
        days=args.days,
        currency=s.reporting_currency,
        short_total_minor=total,
        count=len(lines),
        promises=lines,
    )
