"""The approval lifecycle of actions that change the world (dunning emails, write-offs).

proposed -> approved -> executing -> done | failed; or rejected, expired, cancelled.

Each transition is ONE conditional UPDATE matching the status and version the caller saw,
plus an append-only audit row in the same transaction. Of two concurrent clicks exactly one
wins; the other is told who decided. The rules (who may approve, dual approval, no
self-approval) live here, not in the Slack UI, so every caller gets them.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from db.actions import (
    audit_for,
    expired_proposals,
    get_action,
    insert_action,
    insert_audit,
    set_card,
    update_action_if,
)
from db.engine import transaction
from db.models import Action, ActionKind, ActionStatus
from tools.action_model import RECORD_KINDS, proposers
from tools.action_model import ActionError as ActionError
from tools.action_model import ActionExpired as ActionExpired
from tools.action_model import ActionInfo as ActionInfo
from tools.action_model import ActionNotFound as ActionNotFound
from tools.action_model import AlreadyDecided as AlreadyDecided
from tools.action_model import Decision as Decision
from tools.action_model import Refused as Refused
from tools.action_model import StaleCard as StaleCard
from tools.action_model import cli_proposer as cli_proposer
from tools.deps import ToolDeps
from tools.dual_approval import DUAL_APPROVAL_WINDOW, DualApproval, weigh
from tools.metrics import MetricsError
from tools.settings import Settings

log = logging.getLogger(__name__)

SYSTEM = "arbot"
_RACE_RETRIES = 8


def now_utc() -> datetime:
    return datetime.now(UTC)


def info(action: Action) -> ActionInfo:
    approvals = action.approvals or {}
    derived = {
        "approved_by": [a["user"] for a in approvals.get("approved_by", [])],
        "approvals_needed": int(action.payload.get("approvals_needed", 1)),
    }
    columns = {f: getattr(action, f) for f in ActionInfo.model_fields if f not in derived}
    return ActionInfo(**columns, **derived)


def load(deps: ToolDeps, action_id: int) -> ActionInfo:
    with deps.sessions() as session:
        action = get_action(session, action_id)
        if action is None:
            raise ActionNotFound(f"action {action_id} does not exist")
        return info(action)


def _snapshot(a: ActionInfo) -> dict[str, Any]:
    return {"status": a.status, "version": a.version, "approved_by": a.approved_by}


def transition(
    session: Session,
    a: ActionInfo,
    *,
    to: str,
    actor: str,
    event: str,
    at: datetime,
    values: dict[str, Any] | None = None,
    detail: dict[str, Any] | None = None,
) -> bool:
    """One conditional UPDATE from the status and version in `a`, plus its audit row.

    False means someone else changed the action first; nothing was written.
    """
    values = dict(values or {})
    if not update_action_if(
        session, a.id, status=a.status, version=a.version, values={"status": to, **values}
    ):
        return False
    after: dict[str, Any] = {"status": to, "version": a.version + 1}
    for key, value in values.items():
        if key in ("payload",):
            continue
        after[key] = value.isoformat() if isinstance(value, datetime) else value
    if detail:
        after.update(detail)
    insert_audit(
        session,
        actor=actor,
        event=event,
        entity="action",
        entity_id=str(a.id),
        before=_snapshot(a),
        after=after,
        at=at,
    )
    log.info("event=action_%s action=%s from=%s to=%s", event, a.id, a.status, to)
    return True


def create(
    deps: ToolDeps,
    *,
    kind: ActionKind,
    customer_id: int,
    invoice_id: int | None,
    payload: dict[str, Any],
    proposed_by: str,
    dunning_stage: int | None = None,
    now: datetime | None = None,
) -> ActionInfo:
    """Insert a proposed action and its first audit row; never executes anything."""
    now = now or now_utc()
    with transaction(deps.sessions) as session:
        action = Action(
            kind=kind,
            status=ActionStatus.PROPOSED,
            customer_id=customer_id,
            invoice_id=invoice_id,
            payload=payload,
            proposed_by=proposed_by,
            proposed_at=now,
            expires_at=now + timedelta(hours=deps.settings.action_expiry_hours),
            approvals={},
            attempts=0,
            dunning_stage=dunning_stage,
            version=0,
        )
        insert_action(session, action)
        insert_audit(
            session,
            actor=proposed_by,
            event="proposed",
            entity="action",
            entity_id=str(action.id),
            before=None,
            after={"status": ActionStatus.PROPOSED, "kind": kind, "payload": payload},
            at=now,
        )
        return info(action)


def _decided_message(a: ActionInfo) -> str:
    who = f"<@{a.decided_by}>" if a.decided_by else "the system"
    note = f" ({a.decision_note})" if a.decision_note else ""
    return f"Already {a.status} by {who}{note}."


def _expire(deps: ToolDeps, a: ActionInfo, now: datetime) -> bool:
    with transaction(deps.sessions) as session:
        return transition(
            session,
            a,
            to=ActionStatus.EXPIRED,
            actor=SYSTEM,
            event="expired",
            at=now,
            values={"decided_by": None, "decided_at": now, "decision_note": "no decision in time"},
        )


def open_for_decision(deps: ToolDeps, action_id: int, now: datetime) -> ActionInfo:
    a = load(deps, action_id)
    if a.status == ActionStatus.PROPOSED and a.expires_at is not None and now >= a.expires_at:
        _expire(deps, a, now)
        a = load(deps, action_id)
    if a.status == ActionStatus.EXPIRED:
        raise ActionExpired("This proposal expired before anyone approved it; propose it again.")
    if a.status != ActionStatus.PROPOSED:
        raise AlreadyDecided(_decided_message(a))
    return a


def approve(
    deps: ToolDeps,
    action_id: int,
    user: str,
    *,
    seen: str | None = None,
    now: datetime | None = None,
) -> Decision:
    """Record `user`'s approval; the action becomes approved once enough approvers agreed.

    `seen` is the `shown_version` of the card the person read (a button carries it): an
    approval of any other version is refused, so nobody approves a draft edited since.
    """
    now = now or now_utc()
    for _ in range(_RACE_RETRIES):
        a = open_for_decision(deps, action_id, now)
        if a.kind in RECORD_KINDS:
            raise Refused("A proposed promise or dispute note is confirmed, not approved.")
        if user not in deps.settings.approvers:
            raise Refused("Only configured approvers (ARBOT_APPROVERS) can approve actions.")
        if user in a.authors | proposers(deps.settings, a):
            raise Refused("You proposed or edited this draft; a different approver must approve.")
        if seen is not None and seen != a.shown_version:
            raise StaleCard(
                "This draft was edited after the card you clicked was drawn; nothing was "
                "approved. The card now shows the current draft: read it, then approve."
            )
        if user in a.approved_by:
            raise Refused("You already approved this; it needs a second, different approver.")
        approved_by = [*a.approved_by, user]
        entries = [{"user": u, "at": now.isoformat()} for u in approved_by]
        values: dict[str, Any] = {"approvals": {"approved_by": entries}}
        needed, why = a.approvals_needed, ""
        with transaction(deps.sessions) as session:
            if a.kind == ActionKind.WRITE_OFF and len(approved_by) >= needed:
                dual = _reweigh(session, deps.settings, a, now)
                if dual.approvals_needed > needed:
                    needed = dual.approvals_needed
                    payload = a.payload | {
                        "approvals_needed": needed,
                        "dual_approval": dual.model_dump(),
                    }
                    values["payload"] = payload
                    why = (
                        " Together with this customer's other write-offs of the last "
                        f"{DUAL_APPROVAL_WINDOW.days} days it now reaches the dual-approval "
                        "threshold."
                    )
            enough = len(approved_by) >= needed
            if enough:
                values |= {"decided_by": user, "decided_at": now, "next_attempt_at": None}
            won = transition(
                session,
                a,
                to=ActionStatus.APPROVED if enough else ActionStatus.PROPOSED,
                actor=user,
                event="approved" if enough else "first_approval",
                at=now,
                values=values,
            )
        if won:
            fresh = load(deps, action_id)
            if enough:
                return Decision(action=fresh, outcome="approved", message="Approved.")
            return Decision(
                action=fresh,
                outcome="first_approval",
                message=f"Approval 1 of {needed} recorded; a second approver "
                f"must approve this write-off.{why}",
            )
    raise AlreadyDecided("The action kept changing while you clicked; look at the card again.")


def _reweigh(session: Session, s: Settings, a: ActionInfo, now: datetime) -> DualApproval:
    """The write-off's dual approval weighed again in the approval's own transaction, so a
    write-off proposed at the same moment (neither saw the other) is counted now."""
    inv = a.payload["invoice"]
    try:
        dual = weigh(
            session,
            s,
            customer_id=a.customer_id,
            amounts={inv["currency"]: inv["open_minor"]},
            now=now,
            action_id=a.id,
        )
    except MetricsError as exc:
        raise Refused(
            f"Cannot weigh this write-off against ARBOT_DUAL_APPROVAL_MINOR "
            f"({s.reporting_currency}): {exc}. Nothing was approved."
        ) from None
    return dual


def edit_refusal(settings: Settings, action: ActionInfo, user: str) -> str | None:
    """Why `user` may not edit this draft, or None: only a proposed draft, and only by an
    approver or the person who proposed it."""
    if action.status != ActionStatus.PROPOSED:
        return f"Already {action.status}; it can no longer be edited."
    if user not in settings.approvers and user not in proposers(settings, action):
        return "Only approvers or the proposer can edit a draft."
    return None


def reject_refusal(settings: Settings, action: ActionInfo, user: str) -> str | None:
    """Why `user` may not reject this action now, or None: only a proposed action, and only
    by an approver or the proposer (withdrawing it)."""
    if action.status != ActionStatus.PROPOSED:
        return f"Already {action.status}; nothing to reject."
    if user not in settings.approvers and user not in proposers(settings, action):
        return "Only approvers or the person who proposed it can reject an action."
    return None


def reject(
    deps: ToolDeps, action_id: int, user: str, reason: str, *, now: datetime | None = None
) -> Decision:
    """Any approver (or the proposer, withdrawing it) can reject with a reason."""
    now = now or now_utc()
    reason = reason.strip()
    if not reason:
        raise Refused("Give a reason for rejecting.")
    for _ in range(_RACE_RETRIES):
        a = open_for_decision(deps, action_id, now)
        refusal = reject_refusal(deps.settings, a, user)
        if refusal is not None:
            raise Refused(refusal)
        with transaction(deps.sessions) as session:
            won = transition(
                session,
                a,
                to=ActionStatus.REJECTED,
                actor=user,
                event="rejected",
                at=now,
                values={"decided_by": user, "decided_at": now, "decision_note": reason[:2000]},
            )
        if won:
            return Decision(action=load(deps, action_id), outcome="rejected", message="Rejected.")
    raise AlreadyDecided("The action kept changing while you clicked; look at the card again.")


def replace_payload(
    deps: ToolDeps,
    action_id: int,
    user: str,
    payload: dict[str, Any],
    *,
    expected_version: int,
    now: datetime | None = None,
) -> ActionInfo:
    """Swap in an edited draft; approvals of the earlier draft do not count (re-approval needed)."""
    now = now or now_utc()
    a = open_for_decision(deps, action_id, now)
    if a.version != expected_version:
        raise AlreadyDecided("The draft changed while you edited it; open Edit again.")
    with transaction(deps.sessions) as session:
        won = transition(
            session,
            a,
            to=ActionStatus.PROPOSED,
            actor=user,
            event="edited",
            at=now,
            values={"payload": payload, "approvals": {}},
            detail={"subject": payload.get("subject"), "body": payload.get("body")},
        )
    if not won:
        raise AlreadyDecided("The draft changed while you edited it; open Edit again.")
    return load(deps, action_id)


def expire_due(deps: ToolDeps, *, now: datetime | None = None) -> list[int]:
    """Expire proposals nobody decided in time; returns the ids that changed."""
    now = now or now_utc()
    with deps.sessions() as session:
        due = expired_proposals(session, now)
    changed = []
    for action_id, _version in due:
        a = load(deps, action_id)
        if a.status == ActionStatus.PROPOSED and _expire(deps, a, now):
            changed.append(action_id)
    return changed


def attach_card(deps: ToolDeps, action_id: int, channel: str, ts: str) -> None:
    with transaction(deps.sessions) as session:
        set_card(session, action_id, channel, ts)


def audit_trail(deps: ToolDeps, action_id: int) -> list[dict[str, Any]]:
    with deps.sessions() as session:
        return [
            {
                "at": row.at,
                "actor": row.actor,
                "event": row.event,
                "before": row.before,
                "after": row.after,
            }
            for row in audit_for(session, "action", str(action_id))
        ]
