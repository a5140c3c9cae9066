"""Queries behind approvals: actions, their audit trail, sent emails and the facts re-checked.

Every status change of an action is one conditional UPDATE that matches the status and the
version the caller saw; the caller learns from the row count whether it won a race.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, delete, exists, func, or_, select, update
from sqlalchemy.orm import Session

from db.models import (
    Action,
    ActionStatus,
    AuditLog,
    Customer,
    Dispute,
    Invoice,
    Note,
    PromiseStatus,
    PromiseToPay,
    SentEmail,
)
from db.open_amounts import is_open_at, open_amount_at
from db.settlement import refresh_settlement


@dataclass(frozen=True)
class InvoiceFacts:
    """What decides whether an invoice may be dunned or written off, as of one instant."""

    id: int
    customer_id: int
    source: str
    external_id: str
    number: str | None
    currency: str
    total_minor: int
    open_minor: int
    due_on: date
    payment_url: str | None
    is_open: bool
    voided: bool
    written_off: bool
    disputed: bool
    promised_on: date | None

    @property
    def label(self) -> str:
        return self.number or self.external_id


def get_action(session: Session, action_id: int) -> Action | None:
    return session.get(Action, action_id, populate_existing=True)


def insert_action(session: Session, action: Action) -> int:
    session.add(action)
    session.flush()
    return action.id


def update_action_if(
    session: Session, action_id: int, *, status: str, version: int, values: dict[str, Any]
) -> bool:
    """Apply `values` only if the action is still at (status, version); True if it was."""
    result = session.execute(
        update(Action)
        .where(Action.id == action_id, Action.status == status, Action.version == version)
        .values(version=version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def set_card(session: Session, action_id: int, channel: str, ts: str) -> None:
    """Where the approval card was posted; not a status change, so no version bump."""
    session.execute(
        update(Action)
        .where(Action.id == action_id)
        .values(slack_channel=channel, slack_ts=ts)
        .execution_options(synchronize_session=False)
    )


def insert_audit(
    session: Session,
    *,
    actor: str,
    event: str,
    entity: str,
    entity_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    at: datetime,
) -> None:
    session.add(
        AuditLog(
            actor=actor,
            event=event,
            entity=entity,
            entity_id=entity_id,
            before=before,
            after=after,
            at=at,
        )
    )
    session.flush()


def audit_for(session: Session, entity: str, entity_id: str) -> Sequence[AuditLog]:
    return (
        session.execute(
            select(AuditLog)
            .where(AuditLog.entity == entity, AuditLog.entity_id == entity_id)
            .order_by(AuditLog.id)
        )
        .scalars()
        .all()
    )


def due_for_execution(session: Session, now: datetime, limit: int) -> list[tuple[int, str, int]]:
    """Approved actions whose (re)try time has come, and executing ones whose lease ran out."""
    ready = or_(Action.next_attempt_at.is_(None), Action.next_attempt_at <= now)
    rows = session.execute(
        select(Action.id, Action.status, Action.version)
        .where(
            or_(
                and_(Action.status == ActionStatus.APPROVED, ready),
                and_(Action.status == ActionStatus.EXECUTING, Action.next_attempt_at <= now),
            )
        )
        .order_by(Action.id)
        .limit(limit)
    )
    return [(r[0], r[1], r[2]) for r in rows]


def expired_proposals(session: Session, now: datetime) -> list[tuple[int, int]]:
    rows = session.execute(
        select(Action.id, Action.version).where(
            Action.status == ActionStatus.PROPOSED, Action.expires_at <= now
        )
    )
    return [(r[0], r[1]) for r in rows]


# --- customers and invoices -----------------------------------------------------------------


def get_customer(session: Session, customer_id: int) -> Customer | None:
    return session.get(Customer, customer_id)


def find_invoices(session: Session, ref: str) -> Sequence[Invoice]:
    """By number, external id or internal id; case-insensitive on number and external id."""
    ref = ref.strip()
    low = ref.lower()
    conds = [func.lower(Invoice.number) == low, func.lower(Invoice.external_id) == low]
    if ref.isdigit():
        conds.append(Invoice.id == int(ref))
    return session.execute(select(Invoice).where(or_(*conds))).scalars().all()


def invoice_facts(
    session: Session,
    *,
    cut: datetime,
    today: date,
    customer_id: int | None = None,
    invoice_ids: Sequence[int] | None = None,
    only_open: bool = False,
) -> list[InvoiceFacts]:
    """Invoices with their open amount at `cut` and what blocks dunning them."""
    disputed = exists().where(
        Dispute.resolved_at.is_(None),
        or_(
            Dispute.invoice_id == Invoice.id,
            and_(Dispute.invoice_id.is_(None), Dispute.customer_id == Invoice.customer_id),
        ),
    )
    promised = (
        select(func.max(PromiseToPay.promised_on))
        .where(
            PromiseToPay.status == PromiseStatus.OPEN,
            PromiseToPay.promised_on >= today,
            or_(
                PromiseToPay.invoice_id == Invoice.id,
                and_(
                    PromiseToPay.invoice_id.is_(None),
                    PromiseToPay.customer_id == Invoice.customer_id,
                ),
            ),
        )
        .scalar_subquery()
    )
    query = select(
        Invoice, open_amount_at(cut), is_open_at(cut), disputed.label("disputed"), promised
    ).order_by(Invoice.due_on, Invoice.id)
    if customer_id is not None:
        query = query.where(Invoice.customer_id == customer_id)
    if invoice_ids is not None:
        query = query.where(Invoice.id.in_(list(invoice_ids)))
    if only_open:
        query = query.where(is_open_at(cut))
    out = []
    for inv, open_minor, is_open, is_disputed, promised_on in session.execute(query):
        out.append(
            InvoiceFacts(
                id=inv.id,
                customer_id=inv.customer_id,
                source=inv.source,
                external_id=inv.external_id,
                number=inv.number,
                currency=inv.currency,
                total_minor=inv.total_minor,
                open_minor=int(open_minor) if is_open else 0,
                due_on=inv.due_on,
                payment_url=inv.payment_url,
                is_open=bool(is_open),
                voided=inv.voided_at is not None and inv.voided_at < cut,
                written_off=inv.written_off_at is not None and inv.written_off_at < cut,
                disputed=bool(is_disputed),
                promised_on=promised_on,
            )
        )
    return out


def mark_written_off(session: Session, invoice_id: int, at: datetime) -> bool:
    """Record the write-off in the ledger once, and keep settled_at true to it."""
    result = session.execute(
        update(Invoice)
        .where(Invoice.id == invoice_id, Invoice.written_off_at.is_(None))
        .values(written_off_at=at)
        .execution_options(synchronize_session=False)
    )
    refresh_settlement(session.connection(), [invoice_id])
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


# --- sent emails ----------------------------------------------------------------------------


def sent_email_for(session: Session, action_id: int) -> SentEmail | None:
    return session.execute(
        select(SentEmail).where(SentEmail.action_id == action_id)
    ).scalar_one_or_none()


def insert_sent_email(
    session: Session, *, action_id: int, message_id: str, recipient: str, subject: str, at: datetime
) -> None:
    session.add(
        SentEmail(
            action_id=action_id,
            message_id=message_id,
            recipient=recipient,
            subject=subject,
            sent_at=at,
        )
    )
    session.flush()


def delete_sent_email(session: Session, action_id: int) -> None:
    session.execute(delete(SentEmail).where(SentEmail.action_id == action_id))


# --- promises and notes ---------------------------------------------------------------------


def insert_promise(session: Session, promise: PromiseToPay) -> int:
    session.add(promise)
    session.flush()
    return promise.id


def insert_note(session: Session, note: Note) -> int:
    session.add(note)
    session.flush()
    return note.id


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
