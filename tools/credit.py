"""Credit limits: each customer's exposure against its limit, today and where it is heading.

Exposure is the open AR in every currency (no open orders are recorded in the ledger, so none
are added), converted to the customer's currency, the one its limit is set in; the risk
score's credit-limit signal compares the same figure (`limit_exposures`). The trend is the
straight line through the exposure 30 days ago and today: an account under its limit whose
line crosses it within the next 30 days is "trending" to it. The at-risk scan alerts an
account when it enters either state, and "who is over their credit limit?" lists them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from db.customers import customer_facts
from db.exposure import open_by_customer_bucket
from tools.clock import AsOfDate, day_cut, today
from tools.deps import ToolDeps
from tools.metrics import Converter

TREND_DAYS = 30
Status = Literal["over", "trending", "ok"]


class CreditInput(BaseModel):
    as_of: AsOfDate | None = Field(None, description="end-of-day date; today if empty")
    include_trending: bool = Field(True, description="also list accounts heading to their limit")
    limit: int = Field(25, ge=1, le=200, description="accounts to list, most over first")


class CreditPosition(BaseModel):
    customer_pk: int
    customer_id: str
    name: str
    segment: str | None
    owner_slack_id: str | None
    currency: str
    limit_minor: int
    exposure_minor: int = Field(description="open AR now, in the customer's currency")
    exposure_before_minor: int = Field(description=f"open AR {TREND_DAYS} days earlier")
    status: Status
    days_to_limit: int | None = Field(description="at the current trend; None when not heading")

    @property
    def used_pct(self) -> Decimal | None:
        return (
            None if self.limit_minor <= 0 else Decimal(self.exposure_minor) * 100 / self.limit_minor
        )


class CreditReport(BaseModel):
    as_of: date
    positions: list[CreditPosition] = Field(description="over first, then trending")
    over_count: int
    trending_count: int
    with_limit_count: int = Field(description="customers that have a credit limit")


def is_over(limit_minor: int, exposure_minor: int) -> bool:
    """Over the limit: more than it, not at it (a limit is what may be owed)."""
    return exposure_minor > limit_minor


def status_of(limit: int, now: int, before: int) -> tuple[Status, int | None]:
    """Over the limit, trending to it within TREND_DAYS days, or fine."""
    if is_over(limit, now):
        return "over", 0
    slope = Decimal(now - before) / TREND_DAYS
    if slope <= 0:
        return "ok", None
    days = math.ceil((limit - now) / slope)
    return ("trending" if days <= TREND_DAYS else "ok"), days


def over_limit(limit_minor: int | None, exposure_minor: int) -> bool:
    """Over a credit limit, for an account that may have none."""
    return limit_minor is not None and is_over(limit_minor, exposure_minor)


def limit_exposures(
    session: Session, day: date, balances: dict[tuple[int, str], int], targets: dict[int, str]
) -> dict[int, int]:
    """Exposure against the limit per customer of `targets` (customer -> the currency its
    limit is set in): its open AR in every currency, converted at `day`'s rates, rounded once.
    The credit report and the risk score both compare this with the limit."""
    per: dict[int, dict[str, int]] = {}
    for (cid, currency), amount in balances.items():
        if cid in targets:
            amounts = per.setdefault(cid, {})
            amounts[currency] = amounts.get(currency, 0) + amount
    converters: dict[str, Converter] = {}
    return {
        cid: converters.setdefault(targets[cid], Converter(session, targets[cid], day)).minor(a)
        for cid, a in per.items()
    }


def _exposures(
    session: Session, day: date, tz: ZoneInfo, targets: dict[int, str]
) -> dict[int, int]:
    """Open AR per customer at the end of `day`, converted to the customer's currency."""
    rows = open_by_customer_bucket(session, day_cut(day, tz), [("all", None, None)])
    balances: dict[tuple[int, str], int] = {}
    for row in rows:
        key = (row.customer_id, row.currency)
        balances[key] = balances.get(key, 0) + row.by_bucket["all"]
    return limit_exposures(session, day, balances, targets)


def credit_positions(
    session: Session,
    day: date,
    tz: ZoneInfo,
    *,
    balances: Mapping[date, dict[tuple[int, str], int]] | None = None,
    flagged_only: bool = False,
) -> list[CreditPosition]:
    """Every customer with a credit limit, with its exposure and status; with `flagged_only`
    only those over or heading to it (what the daily scan alerts: most of 100,000s of
    accounts are fine). `balances` may give the open minor units per (customer, currency) at
    either date, read already (the daily scan's risk pass reads both); a date it lacks is
    read here."""
    facts = {
        cid: f for cid, f in customer_facts(session).items() if f.credit_limit_minor is not None
    }
    targets = {cid: f.currency for cid, f in facts.items()}
    known = balances or {}

    def exposures(on: date) -> dict[int, int]:
        found = known.get(on)
        if found is None:
            return _exposures(session, on, tz, targets)
        return limit_exposures(session, on, found, targets)

    now = exposures(day)
    before = exposures(day - timedelta(days=TREND_DAYS))
    out = []
    for cid, f in facts.items():
        limit = int(f.credit_limit_minor or 0)
        status, days = status_of(limit, now.get(cid, 0), before.get(cid, 0))
        if flagged_only and status == "ok":
            continue
        out.append(
            CreditPosition(
                customer_pk=cid,
                customer_id=f.external_id,
                name=f.name,
                segment=f.segment,
                owner_slack_id=f.owner_slack_id,
                currency=f.currency,
                limit_minor=limit,
                exposure_minor=now.get(cid, 0),
                exposure_before_minor=before.get(cid, 0),
                status=status,
                days_to_limit=days,
            )
        )
    order = {"over": 0, "trending": 1, "ok": 2}
    return sorted(out, key=lambda p: (order[p.status], -(p.used_pct or 0), p.name))


def credit_limits(deps: ToolDeps, args: CreditInput) -> CreditReport:
    day = args.as_of or today(deps.settings.tz)
    with deps.sessions() as session:
        positions = credit_positions(session, day, deps.settings.tz)
    over = [p for p in positions if p.status == "over"]
    trending = [p for p in positions if p.status == "trending"]
    listed = over + (trending if args.include_trending else [])
    return CreditReport(
        as_of=day,
        positions=listed[: args.limit],
        over_count=len(over),
        trending_count=len(trending),
        with_limit_count=len(positions),
    )
