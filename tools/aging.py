"""Aging of open receivables for the whole ledger, one customer, or one segment, as of a date.

The ledger-wide report lives in tools.metrics; this narrows the same open amounts (same SQL,
same buckets, same conversion) to a customer or segment, which is what "how old is Acme's
debt?" or "enterprise aging last quarter" needs.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field

from db.customers import customer_ids_in_segment
from db.open_amounts import open_groups
from tools.buckets import BUCKETS
from tools.clock import day_cut, today
from tools.customer_lookup import resolve_customer
from tools.deps import ToolDeps
from tools.errors import ToolInputError
from tools.metrics import Converter, converted_aging
from tools.money import CurrencyCode


class AgingInput(BaseModel):
    as_of: date | None = Field(None, description="end-of-day date; today if empty")
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


def aging(deps: ToolDeps, args: AgingInput) -> Aging:
    s = deps.settings
    as_of = args.as_of or today(s.tz)
    target = args.currency or s.reporting_currency
    with deps.sessions() as session:
        ids: list[int] | None = None
        scope = "all customers"
        if args.customer:
            c = resolve_customer(session, args.customer)
            ids, scope = [c.id], f"customer {c.name}"
            if args.currency is None:
                target = c.currency
        if args.segment:
            seg_ids = customer_ids_in_segment(session, args.segment)
            if not seg_ids:
                raise ToolInputError(f"no customers in segment {args.segment!r}")
            ids = seg_ids if ids is None else [i for i in ids if i in set(seg_ids)]
            scope = f"segment {args.segment}" if not args.customer else f"{scope}, {args.segment}"
        groups = open_groups(
            session, day_cut(as_of, s.tz), currency=args.currency, customer_ids=ids
        )
        buckets = converted_aging(Converter(session, target, as_of), groups, as_of)
        count = sum(g.invoice_count for g in groups)
    total = sum(buckets.values())
    return Aging(
        as_of=as_of,
        scope=scope,
        currency=target,
        total_minor=total,
        buckets_minor=buckets,
        buckets_pct={b: None if total == 0 else Decimal(buckets[b]) * 100 / total for b in BUCKETS},
        open_invoices=count,
    )
