"""Disputes: the open ones, a customer's history, totals per customer, and recording one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from db.models import Customer, Dispute, Invoice


def dispute_open_at(cut: datetime) -> ColumnElement[bool]:
    """Opened before the cut-off and not resolved before it."""
    return and_(
        Dispute.opened_at < cut, or_(Dispute.resolved_at.is_(None), Dispute.resolved_at >= cut)
    )


def open_dispute_for(session: Session, invoice_id: int) -> Dispute | None:
    return (
        session.execute(
            select(Dispute)
            .where(Dispute.invoice_id == invoice_id, Dispute.resolved_at.is_(None))
            .order_by(Dispute.id.desc())
        )
        .scalars()
        .first()
    )


def customer_disputes(
    session: Session, customer_id: int, cut: datetime, limit: int
) -> list[tuple[Dispute, str | None]]:
    """Open ones first, then the most recently opened."""
    query = (
        select(Dispute, Invoice.number)
        .outerjoin(Invoice, Invoice.id == Dispute.invoice_id)
        .where(Dispute.customer_id == customer_id, Dispute.opened_at < cut)
        .order_by(Dispute.resolved_at.is_not(None), Dispute.opened_at.desc())
        .limit(limit)
    )
    return [(row[0], row[1]) for row in session.execute(query)]


def open_dispute_totals(session: Session, cut: datetime) -> dict[int, tuple[int, dict[str, int]]]:
    """Per customer: (count, disputed amount per currency) of disputes open at the cut-off."""
    query = (
        select(Dispute.customer_id, Dispute.currency, func.count(), func.sum(Dispute.amount_minor))
        .where(dispute_open_at(cut))
        .group_by(Dispute.customer_id, Dispute.currency)
    )
    out: dict[int, tuple[int, dict[str, int]]] = {}
    for cid, cur, n, amount in session.execute(query):
        count, amounts = out.get(int(cid), (0, {}))
        amounts[cur] = int(amount)
        out[int(cid)] = (count + int(n), amounts)
    return out


def insert_dispute(session: Session, dispute: Dispute) -> int:
    session.add(dispute)
    session.flush()
    return dispute.id


class DisputeRow(BaseModel):
    """A row as the tools hand it on: their answers extend it, never copy its fields."""

    model_config = ConfigDict(frozen=True)

    dispute_id: int
    external_id: str
    customer_id: int
    customer_name: str
    invoice_number: str | None
    currency: str
    amount_minor: int
    kind: str
    reason: str | None
    opened_at: datetime
    evidence_due_at: datetime | None
    invoice_id: int | None
    owner_slack_id: str | None


def open_disputes(
    session: Session, cut: datetime, dispute_ids: Sequence[int] | None = None
) -> list[DisputeRow]:
    """Disputes opened before the cut-off and not resolved by then, oldest first."""
    query = (
        select(
            Dispute.id,
            Dispute.external_id,
            Dispute.customer_id,
            Customer.name,
            Invoice.number,
            Dispute.currency,
            Dispute.amount_minor,
            Dispute.kind,
            Dispute.reason,
            Dispute.opened_at,
            Dispute.evidence_due_at,
            Dispute.invoice_id,
            Customer.owner_slack_id,
        )
        .join(Customer, Customer.id == Dispute.customer_id)
        .outerjoin(Invoice, Invoice.id == Dispute.invoice_id)
        .where(dispute_open_at(cut))
        .order_by(Dispute.opened_at, Dispute.id)
    )
    if dispute_ids is not None:
        query = query.where(Dispute.id.in_(list(dispute_ids)))
    return [
        DisputeRow(
            dispute_id=int(r[0]),
            external_id=str(r[1]),
            customer_id=int(r[2]),
            customer_name=str(r[3]),
            invoice_number=r[4],
            currency=str(r[5]),
            amount_minor=int(r[6]),
            kind=str(r[7]),
            reason=r[8],
            opened_at=r[9],
            evidence_due_at=r[10],
            invoice_id=r[11],
            owner_slack_id=r[12],
        )
        for r in session.execute(query)
    ]
