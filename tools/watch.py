"""The rules behind the alerts: which disputes need a nudge, which alerts are suppressed
(a snoozed account; a dispute a person just marked), and what the alert buttons offer.

Kept apart from the jobs (which only decide when and claim exactly-once) and from Slack
(which only renders), so the scan, the webhook hook and the buttons share one definition.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

from pydantic import BaseModel, Field

from db.actions import insert_audit
from db.customers import customer_name
from db.disputes import DisputeRow, insert_dispute, open_disputes
from db.engine import transaction
from db.invoices import invoice_facts
from db.jobs import claimed_periods, insert_claim, insert_claims, release_claims
from db.models import Dispute, DisputeKind
from tools.actions import ActionError
from tools.clock import day_cut, today
from tools.customers import OpenInvoiceLine, OpenInvoicesInput, open_invoice_lines
from tools.deps import ToolDeps
from tools.format import plural
from tools.metrics import Converter

EVIDENCE_SOON_DAYS = 3
SNOOZE_DAYS = 7
SNOOZE_JOB = "snooze"
NEW_DISPUTE_JOB = "dispute-new"  # claimed per dispute id once its "new dispute" alert is due
# claimed per account ("customer:ID") while it stays high risk; released when it leaves
RISK_ALERT_JOB = "risk-alert"


class DisputeAlert(DisputeRow):
    """One open dispute as an alert shows it; `reason` is customer text, data only."""

    open_hours: int = Field(description="whole hours open at the time of the check")
    why: list[str] = Field(default_factory=list, description="why it needs attention now")
    reporting_currency: str
    amount_reporting_minor: int | None = Field(
        description="the amount in the reporting currency; None without a rate for its currency"
    )


def _alert(f: DisputeRow, now: datetime, hours: int, fx: Converter) -> DisputeAlert:
    open_hours = int((now - f.opened_at).total_seconds() // 3600)
    why = []
    if open_hours > hours:
        why.append(
            f"open {plural(open_hours, 'hour')} (target: resolved within {plural(hours, 'hour')})"
        )
    if f.evidence_due_at is not None and f.evidence_due_at <= now + timedelta(
        days=EVIDENCE_SOON_DAYS
    ):
        left = f.evidence_due_at - now
        when = (
            "overdue"
            if left.total_seconds() < 0
            else f"due in {plural(int(left.total_seconds() // 3600), 'hour')}"
        )
        why.append(f"evidence {when} ({f.evidence_due_at:%Y-%m-%d %H:%M} UTC)")
    return DisputeAlert(
        **f.model_dump(),
        open_hours=open_hours,
        why=why,
        reporting_currency=fx.target,
        amount_reporting_minor=fx.minor_or_none({f.currency: f.amount_minor}),
    )


def open_dispute_alerts(
    deps: ToolDeps, *, now: datetime, dispute_ids: list[int] | None = None
) -> list[DisputeAlert]:
    """Disputes open right now, oldest first, each with why it needs attention (maybe none)."""
    s = deps.settings
    with deps.sessions() as session:
        facts = open_disputes(session, now, dispute_ids)
        fx = Converter(session, s.reporting_currency, today(s.tz, now))
        return [_alert(f, now, s.target_dispute_hours, fx) for f in facts]


def needs_reminder(alert: DisputeAlert) -> bool:
    """Open longer than the target (48 h by default), or evidence due within 3 days."""
    return bool(alert.why)


# --- suppression: snoozed accounts, disputes a person marked ---------------------------------


def snooze(
    deps: ToolDeps, customer_id: int, user: str, *, now: datetime, days: int = SNOOZE_DAYS
) -> date:
    """No alerts about this customer until the returned date (inclusive)."""
    until = today(deps.settings.tz, now) + timedelta(days=days)
    period = f"customer:{customer_id}"
    detail = json.dumps({"until": until.isoformat(), "by": user})
    with deps.engine.begin() as conn:
        release_claims(conn, SNOOZE_JOB, [period])
    insert_claim(deps.engine, SNOOZE_JOB, period, now, detail)
    return until


def _snoozes(deps: ToolDeps) -> dict[str, date]:
    """period -> last snoozed day of every snooze claim."""
    with deps.engine.connect() as conn:
        rows = claimed_periods(conn, SNOOZE_JOB, "customer:")
    return {
        period: date.fromisoformat(json.loads(detail or "{}").get("until", "1970-01-01"))
        for period, detail in rows.items()
    }


def snoozed_customers(deps: ToolDeps, on: date) -> set[int]:
    return {int(p.split(":", 1)[1]) for p, until in _snoozes(deps).items() if until >= on}


def forget_expired_snoozes(deps: ToolDeps, on: date) -> int:
    """Delete the snoozes that ended before `on`; how many."""
    ended = [p for p, until in _snoozes(deps).items() if until < on]
    with deps.engine.begin() as conn:
        return release_claims(conn, SNOOZE_JOB, ended)


def suppress_new_dispute_alert(deps: ToolDeps, dispute_id: int, *, now: datetime) -> None:
    """No "new dispute" alert for this dispute: whoever opened it knows already.

    Claims the alert's exactly-once row, so the dispute watch sees it as already posted.
    """
    insert_claims(deps.engine, NEW_DISPUTE_JOB, [str(dispute_id)], now)


# --- what the alert buttons offer -----------------------------------------------------------


class InvoiceChoices(BaseModel):
    """A customer's open invoices today: the "which invoice?" of the promise and dispute forms."""

    customer_name: str
    as_of: date
    invoices: list[OpenInvoiceLine] = Field(description="open invoices, oldest due first")


def invoice_choices(deps: ToolDeps, customer_id: int) -> InvoiceChoices:
    as_of = today(deps.settings.tz)
    lines = open_invoice_lines(deps, OpenInvoicesInput(as_of=as_of, customer_id=customer_id))
    with deps.sessions() as session:
        who = customer_name(session, customer_id)
    return InvoiceChoices(
        customer_name=who.name if who else str(customer_id),
        as_of=as_of,
        invoices=[line for line in lines if line.open_minor > 0],
    )


def mark_disputed(deps: ToolDeps, invoice_id: int, user: str, reason: str, *, now: datetime) -> int:
    """Open a billing dispute on the invoice (dunning stops at once); returns its id.

    The person who marked it gets no "new dispute" alert about it.
    """
    reason = reason.strip()
    if len(reason) < 3:
        raise ActionError("Say briefly what the customer disputes.")
    s = deps.settings
    with deps.sessions() as session:
        facts = invoice_facts(
            session,
            cut=day_cut(today(s.tz, now), s.tz),
            today=today(s.tz, now),
            invoice_ids=[invoice_id],
        )
    if not facts:
        raise ActionError("That invoice no longer exists.")
    f = facts[0]
    if f.disputed:
        raise ActionError(f"{f.label} is already disputed.")
    with transaction(deps.sessions) as session:
        did = insert_dispute(
            session,
            Dispute(
                source="slack",
                external_id=f"slack-{invoice_id}-{int(now.timestamp())}",
                customer_id=f.customer_id,
                invoice_id=invoice_id,
                amount_minor=f.open_minor or f.total_minor,
                currency=f.currency,
                kind=DisputeKind.BILLING,
                reason=reason[:2000],
                opened_at=now,
            ),
        )
        insert_audit(
            session,
            actor=user,
            event="marked_disputed",
            entity="invoice",
            entity_id=str(invoice_id),
            before=None,
            after={"dispute_id": did, "reason": reason[:2000]},
            at=now,
        )
    suppress_new_dispute_alert(deps, did, now=now)
    return did
