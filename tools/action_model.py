"""What an action is to its callers: the read-only snapshot, the refusals, and who proposed it.

`tools.actions` owns the lifecycle; this module holds what it hands out (and what every
surface catches), including who counts as the proposer of a command-line proposal.
"""

from __future__ import annotations

import hashlib
import json
import os
import pwd
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from tools.settings import Settings

CLI_PREFIX = "cli:"


class ActionError(Exception):
    """Something a person asked of an action cannot be done; the message says why."""


class ActionNotFound(ActionError):
    pass


class Refused(ActionError):
    """A rule forbids it (not an approver, own proposal, expired, ...)."""


class ActionExpired(Refused):
    """Nobody decided in time; the action is (now) expired and its card should say so."""


class StaleCard(Refused):
    """The card clicked shows an older draft than the one stored: approving it would approve
    words nobody read."""


class AlreadyDecided(ActionError):
    """Someone else decided first; the message names them and the outcome."""


class ActionInfo(BaseModel):
    """A read-only snapshot of an action, what cards and callers render."""

    id: int
    kind: str
    status: str
    customer_id: int
    invoice_id: int | None
    payload: dict[str, Any]
    proposed_by: str
    proposed_at: datetime
    expires_at: datetime | None
    approved_by: list[str]
    approvals_needed: int
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    slack_channel: str | None
    slack_ts: str | None
    version: int

    @property
    def shown_version(self) -> str:
        """A digest of everything the card shows of what will happen (recipient, subject and
        body; or invoice, amount and reason): it changes when an edit changes any of it, and
        not when someone approves."""
        canonical = json.dumps(self.payload, sort_keys=True, default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    @property
    def authors(self) -> set[str]:
        """Who wrote this draft: the proposer and anyone who edited it."""
        return {self.proposed_by, *self.payload.get("edited_by", [])}

    def next_attempt_at_ok(self, now: datetime) -> bool:
        return self.next_attempt_at is None or self.next_attempt_at <= now

    def lease_expired(self, now: datetime) -> bool:
        return self.next_attempt_at is not None and self.next_attempt_at <= now


class Decision(BaseModel):
    """What a click did, in words for the person who clicked."""

    action: ActionInfo
    outcome: str
    message: str


def cli_proposer(os_user: str | None = None) -> str:
    """Who proposes from the command line: the OS user running arbot ("cli:alice"). A
    command line cannot prove a Slack identity, so it never claims one.

    The user is the process's effective uid looked up in the password database, not
    LOGNAME/USER: anyone can set those and so pass as another user who may approve."""
    if os_user is None:
        euid = os.geteuid()
        try:
            os_user = pwd.getpwuid(euid).pw_name
        except KeyError:  # a uid with no account (some containers): still one person
            os_user = f"uid{euid}"
    return f"{CLI_PREFIX}{os_user}"


def cli_os_user(proposed_by: str) -> str | None:
    """The OS user of a command-line proposal ("" for a plain "cli", which names none)."""
    if proposed_by == "cli":
        return ""
    return proposed_by.removeprefix(CLI_PREFIX) if proposed_by.startswith(CLI_PREFIX) else None


def proposers(settings: Settings, a: ActionInfo) -> set[str]:
    """Who proposed `a`, as Slack users: the proposer, and for a command-line proposal the
    Slack user ARBOT_CLI_SLACK_USERS names for that OS user."""
    people = {a.proposed_by}
    os_user = cli_os_user(a.proposed_by)
    slack_id = settings.cli_slack_user(os_user) if os_user else None
    return people | {slack_id} if slack_id else people


# Records the assistant proposed: a person confirms them (any finance user or approver); they
# are never approved and nothing leaves the building.
RECORD_KINDS = frozenset({"promise_to_pay", "dispute_note"})
