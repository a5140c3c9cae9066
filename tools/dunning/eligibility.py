"""Which invoices may be dunned now: the one rule, for a person's request and the sequence.

Never dunned, whoever asks: an invoice that is not open, of a do-not-dun customer, disputed
(the invoice, or the customer as a whole), or under a promise to pay that is not yet due.
The sequence adds timing: stages are day offsets from the due date
(ARBOT_DUNNING_STAGES_DAYS, e.g. -3,1,7,15,30); an invoice is due for the last stage it has
reached, once, and the next stage waits until the previous reminder was decided (approved,
rejected or expired). An invoice first seen late gets the stage it has reached, not every
earlier one. A person who names one invoice asks for that reminder now, so the timing does
not apply to them; a person who names a customer gets the invoices that reached a stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from db.actions import DunningState, dunning_states
from db.customers import customer_names, do_not_dun_customers, get_customer
from db.invoices import InvoiceFacts, invoice_facts
from db.models import ActionStatus, Customer
from tools.actions import ActionError
from tools.buckets import days_past_due
from tools.clock import day_cut, today
from tools.deps import ToolDeps
from tools.ledger_record import same_customer
from tools.money import format_money

TONES = ("friendly reminder", "firm", "final notice")


class DunningError(ActionError):
    """No email can be proposed (do-not-dun, disputed, nothing overdue, no contact, ...)."""


def stage_of(days_past_due: int, stages_days: list[int]) -> int:
    """Index of the last stage whose day offset has been reached (0 if none yet)."""
    reached = [i for i, d in enumerate(stages_days) if days_past_due >= d]
    return reached[-1] if reached else 0


def tone_of(stage: int, n_stages: int) -> str:
    if stage >= n_stages - 1 and n_stages > 1:
        return TONES[2]
    return TONES[1] if stage >= 2 else TONES[0]


def recipient_of(customer: Customer) -> str | None:
    """The AP contact on record, else the billing email: never a model's or a message's."""
    return customer.ap_email or customer.email


def blocked(f: InvoiceFacts, *, do_not_dun: bool = False) -> str | None:
    """Why this invoice is never dunned as things stand (None: nothing forbids it)."""
    if not f.is_open or f.open_minor <= 0:
        return f"{f.label} is not open"
    if do_not_dun:
        return f"{f.label}'s customer is marked do-not-dun"
    if f.disputed:
        return f"{f.label} is disputed"
    if f.promised_on is not None:
        return f"{f.label} has a promise to pay by {f.promised_on.isoformat()}"
    return None


@dataclass(frozen=True)
class Candidate:
    """An open invoice weighed for a reminder as of one day."""

    facts: InvoiceFacts
    days_past_due: int
    stage: int
    reached_first_stage: bool
    blocked: str | None

    def item(self) -> dict[str, Any]:
        """The invoice as a reminder's payload states it (and the outbox re-checks it)."""
        f = self.facts
        return {
            "id": f.id,
            "label": f.label,
            "currency": f.currency,
            "open_minor": f.open_minor,
            "due_on": f.due_on.isoformat(),
            "days_past_due": self.days_past_due,
            "payment_url": f.payment_url,
        }


def candidates(
    deps: ToolDeps,
    *,
    as_of: date,
    customer_id: int | None = None,
    invoice_ids: Sequence[int] | None = None,
) -> list[Candidate]:
    """The open invoices (all, one customer's, or these ids), oldest due first, weighed."""
    s = deps.settings
    stages = s.dunning_stages_days
    with deps.sessions() as session:
        facts = invoice_facts(
            session,
            cut=day_cut(as_of, s.tz),
            today=as_of,
            customer_id=customer_id,
            invoice_ids=invoice_ids,
            only_open=True,
        )
        no_dun = do_not_dun_customers(session)
        if no_dun:  # another source's record of the same customer says it too
            names = customer_names(session)
            keys = {same_customer(c.name) for c in names if c.id in no_dun}
            no_dun |= {c.id for c in names if same_customer(c.name) in keys}
    out = []
    for f in facts:
        days = days_past_due(as_of, f.due_on)
        out.append(
            Candidate(
                facts=f,
                days_past_due=days,
                stage=stage_of(days, stages),
                reached_first_stage=days >= stages[0],
                blocked=blocked(f, do_not_dun=f.customer_id in no_dun),
            )
        )
    return out


def due_reminders(deps: ToolDeps, *, now: datetime) -> list[Candidate]:
    """The reminders the sequence owes now: one per invoice, at the stage it has reached."""
    weighed = [
        c
        for c in candidates(deps, as_of=today(deps.settings.tz, now))
        if c.blocked is None and c.reached_first_stage
    ]
    with deps.sessions() as session:
        last = dunning_states(session, [c.facts.id for c in weighed])
    return [c for c in weighed if _stage_open(last.get(c.facts.id), c.stage, now)]


def _stage_open(last: DunningState | None, stage: int, now: datetime) -> bool:
    """No reminder at this stage yet, and none still waiting for a person."""
    if last is None:
        return True
    waiting = last.status == ActionStatus.PROPOSED and (
        last.expires_at is None or last.expires_at > now
    )
    return not waiting and last.stage < stage


def recheck(deps: ToolDeps, payload: dict[str, Any], *, now: datetime) -> str | None:
    """Why this drafted email must not go out any more (None when the facts still hold)."""
    s = deps.settings
    as_of = today(s.tz, now)
    with deps.sessions() as session:
        customer = get_customer(session, int(payload["customer_id"]))
        if customer is None:
            return "the customer no longer exists"
        if customer.do_not_dun:
            return f"{customer.name} is marked do-not-dun"
        if recipient_of(customer) != payload["recipient"]:
            return "the customer's AP contact changed since the draft"
        ids = [int(i["id"]) for i in payload["invoices"]]
        facts = invoice_facts(session, cut=day_cut(as_of, s.tz), today=as_of, invoice_ids=ids)
    by_id = {f.id: f for f in facts}
    for item in payload["invoices"]:
        reason = _changed(by_id.get(int(item["id"])), item)
        if reason:
            return reason
    return None


def _changed(f: InvoiceFacts | None, item: dict[str, Any]) -> str | None:
    if f is None:
        return f"{item['label']} no longer exists"
    if f.voided:
        return f"{f.label} was voided since the draft"
    if f.written_off:
        return f"{f.label} was written off since the draft"
    if not f.is_open:
        return f"{f.label} was paid since the draft"
    if f.open_minor != item["open_minor"]:
        return (
            f"{f.label} received a payment or credit since the draft "
            f"(open now {format_money(f.open_minor, f.currency)})"
        )
    reason = blocked(f)
    return f"{reason} since the draft" if reason else None
