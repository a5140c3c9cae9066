"""The sums behind every AR metric, per customer: what a cut by segment, payment method,
currency or owner adds up.

The per-invoice terms of `ar_terms` are the very terms `ar_sums` adds up for the whole
ledger (db.ar_sums), so grouping them by customer gives per-customer sums that add up to the
ledger's exactly, and the metric formulas of tools.metrics apply to each group unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from db.models import ArTerm, Customer, Invoice, Payment
from db.open_amounts import OpenGroup, is_open_at
from db.payments import unapplied_cash_where

Key = tuple[int, str]  # (customer id, currency)


@dataclass
class CustomerSums:
    """One customer's sums in one currency, for a window [start, cut)."""

    currency: str
    open_now: list[OpenGroup] = field(default_factory=list)
    open_start: list[OpenGroup] = field(default_factory=list)
    credit_sales: int = 0
    written_off: int = 0
    attempted: int = 0
    recovered: int = 0
    unapplied: int = 0


def _open_at(session: Session, cut: datetime) -> dict[Key, list[OpenGroup]]:
    """Open amounts per customer, currency and due date: the terms before the cut-off of the
    invoices open at it (a settled invoice's terms add up to nothing, so leaving them out
    changes no sum and spares reading the whole history)."""
    query = (
        select(
            Invoice.customer_id,
            ArTerm.currency,
            ArTerm.key_on,
            func.sum(ArTerm.amount_minor),
            func.sum(ArTerm.n),
        )
        .join(Invoice, Invoice.id == ArTerm.invoice_id)
        .where(ArTerm.kind == "open", ArTerm.at < cut, is_open_at(cut))
        .group_by(Invoice.customer_id, ArTerm.currency, ArTerm.key_on)
    )
    out: dict[Key, list[OpenGroup]] = {}
    for cid, cur, due, amount, count in session.execute(query):
        if amount or count:
            out.setdefault((cid, cur), []).append(OpenGroup(cur, due, cid, int(amount), int(count)))
    return out


def customer_sums(
    session: Session, start: datetime, cut: datetime, written_off: dict[Key, int]
) -> dict[Key, CustomerSums]:
    """Per (customer, currency): open amounts at `start` and `cut`, credit sales, failed-attempt
    invoices (and the recovered ones) in [start, cut), unapplied cash at `cut`; `written_off`
    comes from db.invoice_totals, the one home of the write-off amount."""
    sums: dict[Key, CustomerSums] = {}

    def at(key: Key) -> CustomerSums:
        return sums.setdefault(key, CustomerSums(key[1]))

    for key, groups in _open_at(session, cut).items():
        at(key).open_now = groups
    for key, groups in _open_at(session, start).items():
        at(key).open_start = groups
    term = (Invoice.customer_id, ArTerm.currency)
    sales = (
        select(*term, func.sum(ArTerm.amount_minor))
        .join(Invoice, Invoice.id == ArTerm.invoice_id)
        .where(ArTerm.kind == "sale", ArTerm.at >= start, ArTerm.at < cut, ArTerm.until_at >= cut)
        .group_by(*term)
    )
    for cid, cur, total in session.execute(sales):
        at((cid, cur)).credit_sales = int(total)
    recovered = func.sum(case((ArTerm.until_at < cut, ArTerm.n), else_=0))
    dun = (
        select(*term, func.sum(ArTerm.n), recovered)
        .join(Invoice, Invoice.id == ArTerm.invoice_id)
        .where(ArTerm.kind == "dun", ArTerm.at >= start, ArTerm.at < cut, ArTerm.since_at < start)
        .group_by(*term)
    )
    for cid, cur, tried, won in session.execute(dun):
        at((cid, cur)).attempted, at((cid, cur)).recovered = int(tried), int(won)
    for key, amount in written_off.items():
        at(key).written_off = amount
    cash = (
        select(Payment.customer_id, Payment.currency, func.sum(Payment.amount_minor))
        .where(unapplied_cash_where(cut))
        .group_by(Payment.customer_id, Payment.currency)
    )
    for cid, cur, amount in session.execute(cash):
        at((cid, cur)).unapplied = int(amount)
    return sums


@dataclass(frozen=True)
class CustomerTraits:
    """What a customer is cut by, besides the currency of each invoice."""

    segment: str | None
    owner_slack_id: str | None
    method: str | None  # of its latest payment attempt before the cut-off


def customer_traits(
    session: Session, cut: datetime, *, with_method: bool = True
) -> dict[int, CustomerTraits]:
    """Every customer's segment and owner, and with `with_method` its latest payment method
    (a pass over every payment, so only a cut by method asks for it)."""
    methods = _latest_methods(session, cut) if with_method else {}
    rows = session.execute(select(Customer.id, Customer.segment, Customer.owner_slack_id)).all()
    return {
        int(cid): CustomerTraits(segment, owner, methods.get(int(cid)))
        for cid, segment, owner in rows
    }


def _latest_methods(session: Session, cut: datetime) -> dict[int, str]:
    latest = (
        select(Payment.customer_id, func.max(Payment.paid_at).label("last"))
        .where(Payment.paid_at < cut, Payment.method.is_not(None))
        .group_by(Payment.customer_id)
        .subquery()
    )
    return {
        int(cid): str(method)
        for cid, method in session.execute(
            select(Payment.customer_id, func.min(Payment.method))
            .join(
                latest,
                (latest.c.customer_id == Payment.customer_id) & (latest.c.last == Payment.paid_at),
            )
            .where(Payment.method.is_not(None))
            .group_by(Payment.customer_id)
        )
    }
