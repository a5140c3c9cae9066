"""Sums over invoices in a window: credit sales, write-offs, dunning recovery."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from db.models import CreditNote, Invoice, Payment, PaymentStatus
from db.open_amounts import of_currency, open_amount_at, position


def written_off(
    session: Session, start: datetime, cut: datetime, *, currency: str | None = None
) -> dict[str, int]:
    """Open amount just before write-off (payments and credits dated before it), per currency."""
    amount = open_amount_at(Invoice.written_off_at)  # type: ignore[arg-type]
    query = of_currency(
        select(Invoice.currency, func.sum(amount)).where(
            Invoice.written_off_at >= start, Invoice.written_off_at < cut
        ),
        currency,
    ).group_by(Invoice.currency)
    return {cur: int(total) for cur, total in session.execute(query)}


def dunning_recovery(
    session: Session, start: datetime, cut: datetime, *, currency: str | None = None
) -> tuple[int, int]:
    """(invoices with a failed attempt in the window, of those fully covered by the cut-off).

    Covered means payments plus credits reach the total; a void or write-off is no recovery.
    """
    failed = (
        select(Payment.invoice_id)
        .distinct()
        .where(Payment.status == PaymentStatus.FAILED)
        .where(Payment.paid_at >= start, Payment.paid_at < cut)
        .where(Payment.invoice_id.is_not(None))
        .scalar_subquery()
    )
    covered = open_amount_at(cut) <= 0
    query = of_currency(
        select(func.count(), func.coalesce(func.sum(case((covered, 1), else_=0)), 0)).where(
            Invoice.id.in_(failed)
        ),
        currency,
    )
    attempted, recovered = session.execute(query).one()
    return int(attempted), int(recovered)


def credit_sales_at(
    session: Session,
    windows: Sequence[tuple[datetime, datetime]],
    *,
    currency: str | None = None,
) -> list[dict[str, int]]:
    """credit_sales for each [start, cut) window, in the order given, from two queries.

    Rows are grouped by where their dates fall among all the windows' edges, and each window
    sums the groups inside it: equal to credit_sales per window, one scan for all of them.
    """
    edges = sorted({t for w in windows for t in w})
    lo, hi = edges[0], edges[-1]
    issued = position(Invoice.issued_at, edges)
    voided = position(Invoice.voided_at, edges)
    invoiced = of_currency(
        select(Invoice.currency, issued, voided, func.sum(Invoice.total_minor)).where(
            Invoice.issued_at >= lo, Invoice.issued_at < hi
        ),
        currency,
    ).group_by(Invoice.currency, issued, voided)
    noted = position(CreditNote.issued_at, edges)
    credited = select(
        CreditNote.currency, noted, literal(len(edges)), func.sum(CreditNote.amount_minor)
    ).where(CreditNote.issued_at >= lo, CreditNote.issued_at < hi)
    if currency is not None:
        credited = credited.where(CreditNote.currency == currency)
    credited = credited.group_by(CreditNote.currency, noted)
    spans = [(edges.index(start), edges.index(cut)) for start, cut in windows]
    out: list[dict[str, int]] = [{} for _ in windows]
    for query, sign in ((invoiced, 1), (credited, -1)):
        for cur, at, gone, total in session.execute(query):
            for k, (first, stop) in enumerate(spans):
                # issued in [start, cut); an invoice voided before the cut is not a sale
                if first < at <= stop and (sign < 0 or gone > stop):
                    out[k][cur] = out[k].get(cur, 0) + sign * int(total)
    return out
