"""Propose a write-off, showing its amount and its effect on the books before approval.

The effect (allowance used, bad debt % and DSO before -> after) is computed by
tools.metrics on the real ledger: the write-off is applied inside a transaction that is
rolled back, so "after" uses exactly the formulas the reports use.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from db.customers import get_customer
from db.invoices import InvoiceFacts, invoice_facts, mark_written_off
from db.models import ActionKind
from tools import actions
from tools.actions import ActionError, ActionInfo
from tools.clock import day_cut, today
from tools.deps import ToolDeps
from tools.dual_approval import DualApproval, weigh
from tools.errors import ToolInputError
from tools.format import round_ratio
from tools.invoice_lookup import resolve_invoice
from tools.metrics import ArMetrics, MetricsError, MetricsInput, ar_metrics


class WriteOffError(ActionError):
    """No write-off can be proposed (unknown invoice, not open, ...)."""


class WriteOffInput(BaseModel):
    invoice: str = Field(min_length=1, description="invoice number, external id or id")
    reason: str = Field(min_length=3, max_length=2000, description="why it is uncollectible")
    requested_by: str = Field(min_length=1, description="Slack user id of the person asking")
    by_assistant: bool = Field(False, description="proposed by the assistant for this person")


class WriteOffEffect(BaseModel):
    currency: str
    amount_minor: int = Field(description="the invoice's open amount, in the effect currency")
    allowance_before_minor: int
    allowance_after_minor: int
    allowance_used_minor: int = Field(description="how much of the allowance this consumes")
    allowance_shortfall_minor: int = Field(description="write-off beyond the allowance, or 0")
    bad_debt_pct_before: Decimal | None
    bad_debt_pct_after: Decimal | None
    dso_before: Decimal | None
    dso_after: Decimal | None

    def as_payload(self) -> dict[str, Any]:
        def num(v: Decimal | None) -> str | None:
            r = round_ratio(v)
            return None if r is None else str(r)

        return {
            "currency": self.currency,
            "amount_minor": self.amount_minor,
            "allowance_before_minor": self.allowance_before_minor,
            "allowance_after_minor": self.allowance_after_minor,
            "allowance_used_minor": self.allowance_used_minor,
            "allowance_shortfall_minor": self.allowance_shortfall_minor,
            "bad_debt_pct_before": num(self.bad_debt_pct_before),
            "bad_debt_pct_after": num(self.bad_debt_pct_after),
            "dso_before": num(self.dso_before),
            "dso_after": num(self.dso_after),
        }


def _metrics(deps: ToolDeps, session: Session, currency: str | None) -> ArMetrics:
    s = deps.settings
    return ar_metrics(
        session,
        MetricsInput(period_days=s.period_days, currency=currency),
        tz=s.tz,
        reporting_currency=s.reporting_currency,
        reserve_pct=s.reserve_rates_pct,
    )


def effect_of(deps: ToolDeps, facts: InvoiceFacts, now: datetime) -> WriteOffEffect:
    """Metrics before, and after the write-off applied in a transaction that is rolled back."""
    with deps.sessions() as session:
        currency: str | None = None
        try:
            before = _metrics(deps, session, None)
        except MetricsError:
            # No fx rate for some currency: show the effect within the invoice's currency.
            currency = facts.currency
            before = _metrics(deps, session, currency)
        session.rollback()
        try:
            mark_written_off(session, facts.id, now)
            after = _metrics(deps, session, currency)
        finally:
            session.rollback()
    amount = before.ar_total_minor - after.ar_total_minor
    used = min(amount, before.allowance_minor)
    return WriteOffEffect(
        currency=before.currency,
        amount_minor=amount,
        allowance_before_minor=before.allowance_minor,
        allowance_after_minor=max(before.allowance_minor - amount, 0),
        allowance_used_minor=used,
        allowance_shortfall_minor=amount - used,
        bad_debt_pct_before=before.bad_debt_pct,
        bad_debt_pct_after=after.bad_debt_pct,
        dso_before=before.dso,
        dso_after=after.dso,
    )


def dual_approval(deps: ToolDeps, facts: InvoiceFacts, now: datetime) -> DualApproval:
    """How many approvers this write-off needs (tools.dual_approval), or why it cannot say."""
    s = deps.settings
    with deps.sessions() as session:
        try:
            return weigh(
                session,
                s,
                customer_id=facts.customer_id,
                amounts={facts.currency: facts.open_minor},
                now=now,
            )
        except MetricsError as exc:
            raise WriteOffError(
                f"cannot weigh this write-off against ARBOT_DUAL_APPROVAL_MINOR "
                f"({s.reporting_currency}): {exc}"
            ) from None


def find_open_invoice(deps: ToolDeps, ref: str | int, now: datetime) -> InvoiceFacts:
    s = deps.settings
    as_of = today(s.tz, now)
    with deps.sessions() as session:
        try:
            invoice = resolve_invoice(session, ref)
        except ToolInputError as exc:
            raise WriteOffError(str(exc)) from None
        facts = invoice_facts(
            session, cut=day_cut(as_of, s.tz), today=as_of, invoice_ids=[invoice.id]
        )[0]
    if facts.voided:
        raise WriteOffError(f"{facts.label} is voided; there is nothing to write off")
    if facts.written_off:
        raise WriteOffError(f"{facts.label} is already written off")
    if not facts.is_open or facts.open_minor <= 0:
        raise WriteOffError(f"{facts.label} is fully paid; there is nothing to write off")
    return facts


def recheck(deps: ToolDeps, payload: dict[str, Any], *, now: datetime) -> str | None:
    """Why this write-off must not happen any more (None when it still should)."""
    try:
        # The ledger id as an int: as text it could also be some source's number or id.
        facts = find_open_invoice(deps, int(payload["invoice"]["id"]), now)
    except WriteOffError as exc:
        return f"{exc} since the proposal"
    if facts.open_minor != payload["invoice"]["open_minor"]:
        return f"{facts.label} received a payment or credit since the proposal"
    return None


def propose_write_off(
    deps: ToolDeps,
    args: WriteOffInput,
    *,
    now: datetime | None = None,
) -> ActionInfo:
    """Store a proposed write-off with its effect; two approvers at or above the threshold."""
    now = now or actions.now_utc()
    facts = find_open_invoice(deps, args.invoice, now)
    dual = dual_approval(deps, facts, now)
    effect = effect_of(deps, facts, now)
    with deps.sessions() as session:
        customer = get_customer(session, facts.customer_id)
        assert customer is not None
    payload: dict[str, Any] = {
        "customer_id": customer.id,
        "customer_name": customer.name,
        "invoice": {
            "id": facts.id,
            "label": facts.label,
            "source": facts.source,
            "external_id": facts.external_id,
            "currency": facts.currency,
            "total_minor": facts.total_minor,
            "open_minor": facts.open_minor,
            "due_on": facts.due_on.isoformat(),
        },
        "reason": args.reason.strip(),
        "by_assistant": args.by_assistant,
        "request_id": new_request_id(),
        "effect": effect.as_payload(),
        "approvals_needed": dual.approvals_needed,
        "dual_approval": dual.model_dump(),
    }
    return actions.create(
        deps,
        kind=ActionKind.WRITE_OFF,
        customer_id=customer.id,
        invoice_id=facts.id,
        payload=payload,
        proposed_by=args.requested_by,
        now=now,
    )


def new_request_id() -> str:
    """A random id for the requests that post a write-off to the books. Random, not the
    action id: a restored or reset database reuses action ids, and the vendor would answer a
    new write-off with an old one's result."""
    return uuid.uuid4().hex


def request_id(payload: dict[str, Any], action_id: int) -> str:
    """The id the vendors' idempotency keys derive from (the outbox stores one before the
    first attempt if the proposal has none)."""
    return str(payload.get("request_id") or f"action-{action_id}")
