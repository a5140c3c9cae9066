"""Proposed actions (dunning emails, write-offs), their audit trail, the sent emails, and what has
been dunned already.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from db.models import Action, ActionKind, ActionStatus, AuditLog, SentEmail


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


@dataclass(frozen=True)
class RecentWriteOff:
    currency: str
    open_minor: int
    approvals_needed: int
    pending: bool
    """Still proposed: it may yet be approved, or rejected or expire."""


def recent_write_offs(
    session: Session,
    customer_id: int,
    *,
    since: datetime,
    now: datetime,
    exclude_id: int | None = None,
) -> list[RecentWriteOff]:
    """A customer's write-offs that stand or may still happen (done, executing, approved, or
    proposed and not yet expired), proposed or decided since `since`: one proposed long ago
    and approved lately counts from its approval."""
    live = or_(
        Action.status.in_([ActionStatus.APPROVED, ActionStatus.EXECUTING, ActionStatus.DONE]),
        and_(
            Action.status == ActionStatus.PROPOSED,
            or_(Action.expires_at.is_(None), Action.expires_at > now),
        ),
    )
    query = (
        select(Action.status, Action.payload)
        .where(
            Action.kind == ActionKind.WRITE_OFF,
            Action.customer_id == customer_id,
            or_(Action.proposed_at >= since, Action.decided_at >= since),
            live,
        )
        .order_by(Action.id)
    )
    if exclude_id is not None:
        query = query.where(Action.id != exclude_id)
    return [
        RecentWriteOff(
            currency=p["invoice"]["currency"],
            open_minor=int(p["invoice"]["open_minor"]),
            approvals_needed=int(p.get("approvals_needed", 1)),
            pending=status == ActionStatus.PROPOSED,
        )
        for status, p in session.execute(query)
    ]


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


@dataclass(frozen=True)
class DunningState:
    """The latest reminder proposed for an invoice: its stage and whether it was decided."""

    invoice_id: int
    stage: int
    status: str
    expires_at: datetime | None


def dunning_states(session: Session, invoice_ids: Sequence[int]) -> dict[int, DunningState]:
    """Latest dunning action per invoice, for invoices named on their own action row."""
    if not invoice_ids:
        return {}
    latest = (
        select(Action.invoice_id, func.max(Action.id).label("last_id"))
        .where(Action.kind == ActionKind.DUNNING_EMAIL, Action.invoice_id.in_(list(invoice_ids)))
        .group_by(Action.invoice_id)
        .subquery()
    )
    rows = session.execute(
        select(Action.invoice_id, Action.dunning_stage, Action.status, Action.expires_at).join(
            latest, and_(Action.id == latest.c.last_id)
        )
    )
    return {
        int(i or 0): DunningState(
            int(i or 0), -1 if stage is None else int(stage), str(status), exp
        )
        for i, stage, status, exp in rows
    }


def open_proposal_for(session: Session, kind: str, invoice_id: int) -> Action | None:
    """The oldest proposal of `kind` for the invoice still waiting for a decision."""
    return session.scalars(
        select(Action)
        .where(
            Action.kind == kind,
            Action.invoice_id == invoice_id,
            Action.status == ActionStatus.PROPOSED,
        )
        .order_by(Action.id)
        .limit(1)
    ).first()
