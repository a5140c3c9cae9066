"""Withdrawing a proposal nobody asked to see, and finding the open one for an invoice.

The assistant may propose an action while answering a question that turns out not to show
it; such a proposal is cancelled at once (its status and an audit row, like any other
decision), so no card and no queue entry ever stands for a request the person did not make.
"""

from __future__ import annotations

from datetime import datetime

from db.actions import open_proposal_for
from db.engine import transaction
from db.models import ActionStatus
from tools.actions import ActionInfo, info, load, now_utc, transition
from tools.deps import ToolDeps

WITHDRAWN_NOTE = "Withdrawn: the question did not ask for it"


def withdraw(deps: ToolDeps, action_id: int, actor: str, *, now: datetime | None = None) -> bool:
    """Cancel a proposal still waiting for a decision; False when it had moved on already."""
    a = load(deps, action_id)
    if a.status != ActionStatus.PROPOSED:
        return False
    now = now or now_utc()
    with transaction(deps.sessions) as session:
        return transition(
            session,
            a,
            to=ActionStatus.CANCELLED,
            actor=actor,
            event="cancelled",
            at=now,
            values={"decided_by": actor, "decided_at": now, "decision_note": WITHDRAWN_NOTE},
        )


def open_proposal(deps: ToolDeps, kind: str, invoice_id: int) -> ActionInfo | None:
    """The proposal of this kind for this invoice still waiting for a decision, if any."""
    with deps.sessions() as session:
        action = open_proposal_for(session, kind, invoice_id)
        return info(action) if action is not None else None
