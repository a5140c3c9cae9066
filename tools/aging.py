"""Aging of open receivables for the whole ledger, one customer, or one segment, as of a date.

The ledger-wide report lives in tools.metrics; this narrows the same open amounts (same SQL,
same buckets, same conversion) to a customer or segment, which is what "how old is Acme's
debt?" or "enterprise aging last quarter" needs.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from db.ar_sums import open_sums_at
from db.open_amounts import open_groups
from tools.answer_cache import cached
from tools.buckets import BUCKETS
from tools.clock import AsOfDate, day_cut, today
from tools.customer_lookup import scope_of
from tools.deps import ToolDeps
from tools.ledger_record import source_line
from tools.metrics import Converter, converted_aging
from tools.money import CurrencyCode


class AgingInput(BaseModel):
    as_of: AsOfDate | None = Field(None, description="end-of-day date; today if empty")
    customer: str | None = Field(None, description="one customer (name or id); all when empty")
    segment: str | None = Field(
        None, description="one segment (enterprise, mid-market, smb); all when empty"
    )
    currency: CurrencyCode | None = Field(
        None, description="one currency alone (ISO code); all, converted, when empty"
    )


class Aging(BaseModel):
    as_of: date
    scope: str = Field(description="what was aged: all customers, a customer or a segment")
    currency: str
    total_minor: int
    buckets_minor: dict[str, int]
    buckets_pct: dict[str, Decimal | None]
    open_invoices: int
    source: str = Field("", description='which source the figures count, "Source: QuickBooks"')


def aging(deps: ToolDeps, args: AgingInput) -> Aging:
    s = deps.settings
    as_of = args.as_of or today(s.tz)
    target = args.currency or s.reporting_currency
    with deps.sessions() as session:
        scope = scope_of(session, args.customer, args.segment)
        if scope.customer is not None and args.currency is None:
            target = scope.customer.currency
        cut = day_cut(as_of, s.tz)

        def compute() -> tuple[dict[str, int], int]:
            groups = (
                open_sums_at(session, [cut], currency=args.currency)[0]
                if scope.ids is None
                else open_groups(session, cut, currency=args.currency, customer_ids=scope.ids)
            )
            buckets = converted_aging(Converter(session, target, as_of), groups, as_of)
            return buckets, sum(g.invoice_count for g in groups)

        ids = None if scope.ids is None else tuple(scope.ids)
        key = ("aging", as_of, str(s.tz), args.currency, target, ids)
        buckets, count = cached(session, key, compute)
        source = source_line(session.connection())
    total = sum(buckets.values())
    return Aging(
        as_of=as_of,
        scope=scope.label,
        currency=target,
        total_minor=total,
        buckets_minor=buckets,
        source=source,
        buckets_pct={b: None if total == 0 else Decimal(buckets[b]) * 100 / total for b in BUCKETS},
        open_invoices=count,
    )
