"""The sums behind every AR metric, per group of customers: what a cut by segment, payment
method, currency or owner adds up.

The per-invoice terms of `ar_terms` are the very terms `ar_sums` adds up for the whole
ledger (db.ar_sums), so grouping them by customer gives per-customer sums that add up to the
ledger's exactly, and the metric formulas of tools.metrics apply to each group unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import case, func, select, union_all
from sqlalchemy.orm import Session

from db.models import ArTerm, CreditNote, Customer, Invoice, Payment, PaymentStatus
from db.open_amounts import OpenGroup, is_open_at
from db.payments import unapplied_cash_where
from db.sql_dates import dialect

Key = tuple[int, str]  # (customer id, currency)
GroupKey = tuple[str, str]  # (group, currency)
GroupOf = Callable[[int, str], str]
"""The group a customer's amounts in a currency belong to."""


@dataclass
class CustomerSums:
    """One group's sums in one currency, for a window [start, cut): a customer's, or those of
    every customer in the group added up."""

    currency: str
    open_now: list[OpenGroup] = field(default_factory=list)
    open_start: list[OpenGroup] = field(default_factory=list)
    credit_sales: int = 0
    written_off: int = 0
    attempted: int = 0
    recovered: int = 0
    unapplied: int = 0


def _open_at(session: Session, cut: datetime, group_of: GroupOf) -> dict[GroupKey, list[OpenGroup]]:
    """Open amounts per group, currency and due date: the terms before the cut-off of the
    invoices open at it (a settled invoice's terms add up to nothing, so leaving them out
    changes no sum and spares reading the whole history). Read per customer, added up per
    group as they arrive: a cut of every account is 100,000s of rows."""
    query = (
        select(
            Invoice.customer_id,
            ArTerm.currency,
            ArTerm.key_on,
            func.sum(ArTerm.amount_minor),
            func.sum(ArTerm.n),
        )
        .join(Invoice, Invoice.id == ArTerm.invoice_id)
        .where(ArTerm.kind == "open", ArTerm.at < cut, is_open_at(cut, joined=True))
        .group_by(Invoice.customer_id, ArTerm.currency, ArTerm.key_on)
    )
    return grouped_open(session.execute(query).all(), group_of)


def grouped_open(
    rows: Iterable[tuple[int, str, date, int, int]], group_of: GroupOf
) -> dict[GroupKey, list[OpenGroup]]:
    """(customer, currency, due date, open amount, open invoices) rows added up per group,
    currency and due date."""
    sums: dict[tuple[str, str, date], list[int]] = {}
    for cid, cur, due, amount, count in rows:
        acc = sums.get(key := (group_of(cid, cur), cur, due))
        if acc is None:
            sums[key] = [int(amount), int(count)]
        else:
            acc[0] += int(amount)
            acc[1] += int(count)
    out: dict[GroupKey, list[OpenGroup]] = {}
    for (group, cur, due), (amount, count) in sums.items():
        if amount or count:
            out.setdefault((group, cur), []).append(OpenGroup(cur, due, None, amount, count))
    return out


def customer_sums(
    session: Session,
    start: datetime,
    cut: datetime,
    written_off: dict[Key, int],
    group_of: GroupOf,
    open_now: dict[GroupKey, list[OpenGroup]] | None = None,
) -> dict[GroupKey, CustomerSums]:
    """Per (group, currency): open amounts at `start` and `cut`, credit sales, failed-attempt
    invoices (and the recovered ones) in [start, cut), unapplied cash at `cut`; `written_off`
    comes per customer from db.invoice_totals, the one home of the write-off amount, and
    `open_now` may give the open amounts at `cut` grouped already (`grouped_open`). Every
    amount is a sum of integers, so adding customers up per group changes no total."""
    sums: dict[GroupKey, CustomerSums] = {}

    def at(cid: int, cur: str) -> CustomerSums:
        key = (group_of(cid, cur), cur)
        found = sums.get(key)
        return found if found is not None else sums.setdefault(key, CustomerSums(cur))

    now = _open_at(session, cut, group_of) if open_now is None else open_now
    for key, groups in now.items():
        sums.setdefault(key, CustomerSums(key[1])).open_now = groups
    for key, groups in _open_at(session, start, group_of).items():
        sums.setdefault(key, CustomerSums(key[1])).open_start = groups
    term = (Invoice.customer_id, ArTerm.currency)
    sales = (
        select(*term, func.sum(ArTerm.amount_minor))
        .join(Invoice, Invoice.id == ArTerm.invoice_id)
        .where(ArTerm.kind == "sale", ArTerm.at >= start, ArTerm.at < cut, ArTerm.until_at >= cut)
        .group_by(*term)
    )
    if dialect(session) == "sqlite":
        # A sale term in [start, cut) is an invoice's issue or a credit note's date in it (the
        # window's ends are midnights, which flooring to quarter hours keeps on the same
        # side), so SQLite, which has no hash join, reads only those invoices' terms through
        # ar_terms' invoice index. PostgreSQL hashes the window's terms from one pass over
        # ar_terms: probing the index for the 100,000s of invoices in a window costs more.
        dated = union_all(
            select(Invoice.id).where(Invoice.issued_at >= start, Invoice.issued_at < cut),
            select(CreditNote.invoice_id).where(
                CreditNote.issued_at >= start, CreditNote.issued_at < cut
            ),
        )
        sales = sales.where(ArTerm.invoice_id.in_(dated))
    for cid, cur, total in session.execute(sales).all():
        at(cid, cur).credit_sales += int(total)
    recovered = func.sum(case((ArTerm.until_at < cut, ArTerm.n), else_=0))
    # Likewise a dunning term in [start, cut) is a failed payment attempt dated in it.
    failed = select(Payment.invoice_id).where(
        Payment.status == PaymentStatus.FAILED, Payment.paid_at >= start, Payment.paid_at < cut
    )
    dun = (
        select(*term, func.sum(ArTerm.n), recovered)
        .join(Invoice, Invoice.id == ArTerm.invoice_id)
        .where(ArTerm.kind == "dun", ArTerm.at >= start, ArTerm.at < cut, ArTerm.since_at < start)
        .where(ArTerm.invoice_id.in_(failed))
        .group_by(*term)
    )
    for cid, cur, tried, won in session.execute(dun).all():
        group = at(cid, cur)
        group.attempted += int(tried)
        group.recovered += int(won)
    for (cid, cur), amount in written_off.items():
        at(cid, cur).written_off += amount
    cash = (
        select(Payment.customer_id, Payment.currency, func.sum(Payment.amount_minor))
        .where(unapplied_cash_where(cut))
        .group_by(Payment.customer_id, Payment.currency)
    )
    for cid, cur, amount in session.execute(cash).all():
        at(cid, cur).unapplied += int(amount)
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
