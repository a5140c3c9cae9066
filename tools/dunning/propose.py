"""Propose a dunning email: the exact open invoices, to the AP contact, in the stage's tone.

The tool only proposes (an action row waiting for approval). The recipient always comes from
the customer's record, never from a model or a person's message; which invoices may be
reminded about is `tools.dunning.eligibility`'s rule.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from db.customers import get_customer
from db.models import ActionKind, Customer
from tools import actions
from tools.actions import ActionInfo
from tools.clock import today
from tools.customer_lookup import match_customer, resolve_customer
from tools.deps import ToolDeps
from tools.dunning.draft import check_draft, draft_email, totals
from tools.dunning.eligibility import (
    TONES,
    Candidate,
    DunningError,
    candidates,
    recipient_of,
    tone_of,
)
from tools.errors import ToolInputError
from tools.invoice_lookup import resolve_invoice


class DunningInput(BaseModel):
    customer: str | None = Field(None, description="customer name, external id or id")
    invoice: str | None = Field(None, description="one invoice number or id; all overdue if empty")
    customer_id: int | None = Field(None, description="internal id, from a button")
    invoice_id: int | None = Field(None, description="internal id, from a button or a job")
    tone: str | None = Field(
        None, description="friendly reminder, firm or final notice; by dunning stage if empty"
    )
    requested_by: str = Field(min_length=1, description="Slack user id of the person asking")
    by_assistant: bool = Field(False, description="proposed by the assistant for this person")

    @field_validator("tone")
    @classmethod
    def _known_tone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().lower()
        aliases = {"friendly": TONES[0], "reminder": TONES[0], "final": TONES[2]}
        value = aliases.get(value, value)
        if value not in TONES:
            raise ValueError(f"tone must be one of: {', '.join(TONES)}")
        return value

    def model_post_init(self, _context: Any) -> None:
        if not (self.customer or self.invoice or self.customer_id or self.invoice_id):
            raise ValueError("name a customer or an invoice to remind about")


def _named(deps: ToolDeps, args: DunningInput) -> tuple[Customer, int | None]:
    """The customer to remind and, when the person named one, the invoice's id.

    An invoice names its own customer; a customer text given beside it must be one the
    customer lookup could mean, else the two disagree and nothing is guessed.
    """
    customer_ref = args.customer_id if args.customer_id is not None else args.customer
    invoice_ref = args.invoice_id if args.invoice_id is not None else args.invoice
    with deps.sessions() as session:
        try:
            if not invoice_ref:
                return resolve_customer(session, customer_ref or ""), None
            invoice = resolve_invoice(session, invoice_ref)
        except ToolInputError as exc:
            raise DunningError(str(exc)) from exc
        customer = get_customer(session, invoice.customer_id)
        assert customer is not None
        label = invoice.number or invoice.external_id
        if args.customer_id is not None and args.customer_id != customer.id:
            raise DunningError(f"invoice {label} belongs to {customer.name}")
        if args.customer:
            meant = {c.customer_id for c in match_customer(session, args.customer).candidates}
            if customer.id not in meant:
                raise DunningError(f"invoice {label} belongs to {customer.name}")
        return customer, invoice.id


def _to_remind(
    deps: ToolDeps, args: DunningInput, customer: Customer, invoice_id: int | None, as_of: date
) -> tuple[list[Candidate], list[str]]:
    """The invoices this reminder states, and why others of the customer's were left out."""
    if invoice_id is not None:
        named = candidates(deps, as_of=as_of, invoice_ids=[invoice_id])
        if not named:
            raise DunningError(
                f"invoice {args.invoice or invoice_id} is not open; nothing to remind about"
            )
        if named[0].blocked:
            raise DunningError(f"no reminder: {named[0].blocked}")
        return named, []
    due = [
        c for c in candidates(deps, as_of=as_of, customer_id=customer.id) if c.reached_first_stage
    ]
    if not due:
        raise DunningError(f"{customer.name} has no open invoice due for a reminder")
    excluded = [c.blocked for c in due if c.blocked]
    chosen = [c for c in due if c.blocked is None]
    if not chosen:
        raise DunningError(f"no reminder for {customer.name}: {'; '.join(excluded)}")
    return chosen, excluded


def propose_dunning_email(
    deps: ToolDeps,
    args: DunningInput,
    *,
    now: datetime | None = None,
) -> ActionInfo:
    """Draft the reminder and store it as a proposed action awaiting approval."""
    s = deps.settings
    now = now or actions.now_utc()
    as_of = today(s.tz, now)
    customer, invoice_id = _named(deps, args)
    if customer.do_not_dun:
        raise DunningError(f"{customer.name} is marked do-not-dun; no reminder can be drafted")
    recipient = recipient_of(customer)
    if not recipient:
        raise DunningError(f"{customer.name} has no AP or billing email on record")
    chosen, excluded = _to_remind(deps, args, customer, invoice_id, as_of)
    items = [c.item() for c in chosen]
    stage = max(c.stage for c in chosen)
    payload: dict[str, Any] = {
        "customer_id": customer.id,
        "customer_name": customer.name,
        "recipient": recipient,
        "invoices": items,
        "totals": totals(items),
        "tone": args.tone or tone_of(stage, len(s.dunning_stages_days)),
        "stage": stage,
        "approvals_needed": 1,
        "excluded": excluded,
        "by_assistant": args.by_assistant,
    }
    draft = draft_email(s, customer.name, as_of, payload)
    problems = check_draft(draft.subject, draft.body, payload)
    if problems:
        hint = "; name one invoice at a time" if len(items) > 1 else ""
        raise DunningError(f"no reminder for {customer.name}: " + "; ".join(problems) + hint)
    payload |= {"subject": draft.subject, "body": draft.body, "drafted_by": draft.drafted_by}
    return actions.create(
        deps,
        kind=ActionKind.DUNNING_EMAIL,
        customer_id=customer.id,
        invoice_id=items[0]["id"] if len(items) == 1 else None,
        payload=payload,
        proposed_by=args.requested_by,
        dunning_stage=stage,
        now=now,
    )
