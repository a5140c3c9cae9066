"""A person edits a drafted reminder: the text is checked again, the facts re-checked, and
approvals of the earlier draft do not count."""

from __future__ import annotations

from datetime import datetime

from db.models import ActionKind
from tools import actions
from tools.actions import ActionInfo, edit_refusal
from tools.deps import ToolDeps
from tools.dunning.draft import check_draft
from tools.dunning.eligibility import DunningError, recheck


def edit_draft(
    deps: ToolDeps,
    action_id: int,
    user: str,
    subject: str,
    body: str,
    *,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> ActionInfo:
    """Replace subject/body after re-checking text and facts; approvals start over."""
    now = now or actions.now_utc()
    a = actions.load(deps, action_id)
    if a.kind != ActionKind.DUNNING_EMAIL:
        raise DunningError("only dunning emails can be edited")
    refusal = edit_refusal(deps.settings, a, user)
    if refusal:
        raise actions.Refused(refusal)
    subject, body = subject.strip(), body.strip()
    problems = check_draft(subject, body, a.payload)
    if problems:
        raise DunningError("The edited email was not saved: " + "; ".join(problems) + ".")
    stale = recheck(deps, a.payload, now=now)
    if stale:
        raise DunningError(f"The edited email was not saved: {stale}.")
    edited_by = [*a.payload.get("edited_by", []), user]
    payload = {**a.payload, "subject": subject, "body": body, "edited_by": edited_by}
    payload["drafted_by"] = "edited"
    version = a.version if expected_version is None else expected_version
    return actions.replace_payload(
        deps, action_id, user, payload, expected_version=version, now=now
    )
