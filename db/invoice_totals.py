"""What was written off in a window (credit sales and dunning recovery come from db.ar_sums)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Invoice
from db.open_amounts import counted, of_currency, open_amount_at


def written_off(
    session: Session, start: datetime, cut: datetime, *, currency: str | None = None
) -> dict[str, int]:
    """Open amount just before write-off (payments and credits dated before it), per currency."""
    totals: dict[str, int] = {}
    for (_, cur), amount in written_off_per_customer(session, start, cut, currency).items():
        totals[cur] = totals.get(cur, 0) + amount
    return totals


def written_off_per_customer(
    session: Session, start: datetime, cut: datetime, currency: str | None = None
) -> dict[tuple[int, str], int]:
    """written_off per (customer, currency): what a cut of the report adds up."""
    amount = open_amount_at(Invoice.written_off_at)  # type: ignore[arg-type]
    key = (Invoice.customer_id, Invoice.currency)
    query = of_currency(
        select(*key, func.sum(amount)).where(
            Invoice.written_off_at >= start, Invoice.written_off_at < cut, counted()
        ),
        currency,
    ).group_by(*key)
    return {(int(cid), cur): int(total) for cid, cur, total in session.execute(query)}
