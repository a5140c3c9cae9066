"""Unapplied cash: money received that is not matched to any invoice yet.

The total uses the same query and conversion as the AR report's "unapplied cash" line.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from db import payments as payments_db
from db.payments import UnappliedRow, unapplied_payments
from tools.cash_lines import ShownLine, shown_lines
from tools.clock import AsOfDate, day_cut, today
from tools.deps import ToolDeps
from tools.metrics import Converter


class UnappliedCashInput(BaseModel):
    as_of: AsOfDate | None = Field(None, description="end-of-day date; today if empty")


class UnappliedCash(BaseModel):
    as_of: date
    currency: str
    total_minor: int = Field(description="converted to the reporting currency")
    by_currency: dict[str, int]
    count: int
    payments: list[UnappliedRow]
    receipts: list[ShownLine] = Field(
        default_factory=list,
        description="bank credits not applied yet, each with its best suggestion",
    )


def unapplied_cash(deps: ToolDeps, args: UnappliedCashInput) -> UnappliedCash:
    s = deps.settings
    as_of = args.as_of or today(s.tz)
    cut = day_cut(as_of, s.tz)
    with deps.sessions() as session:
        by_currency = payments_db.unapplied_cash(session, cut)
        total = Converter(session, s.reporting_currency, as_of).minor(by_currency)
        rows = unapplied_payments(session, cut)
    lines = list(rows)
    receipts = [r for r in shown_lines(deps) if r.booked_on <= as_of]
    return UnappliedCash(
        as_of=as_of,
        currency=s.reporting_currency,
        total_minor=total,
        by_currency=by_currency,
        count=len(lines),
        payments=lines,
        receipts=receipts,
    )
