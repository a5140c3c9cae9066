"""What was written off in a window (credit sales and dunning recovery come from db.ar_sums)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.models import Invoice
from db.open_amounts import of_currency, open_amount_at


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
