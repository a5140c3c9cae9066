"""Propose a dunning email: the exact open invoices, to the AP contact, in the stage's tone.

The tool only proposes (an action row waiting for approval). The recipient always comes from
the customer's record (AP email, else billing email), never from a model or a person's
message. Drafts come from prompts/dunning_email.md through the LLM when one is configured,
and from a plain template otherwise; either way the draft is checked to state every invoice
and amount before anyone sees it.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field, field_validator

from db import actions_sql as q
from db.actions_sql import InvoiceFacts
from db.models import ActionKind, Customer
from tools import actions
from tools.actions import ActionError, ActionInfo
from tools.clock import day_cut, today
from tools.deps import ToolDeps
from tools.llm import chat_model, render_prompt
from tools.money import exponent, format_money, to_major
from tools.settings import Settings

log = logging.getLogger(__name__)

TONES = ("friendly reminder", "firm", "final notice")
MAX_SUBJECT = 200
MAX_BODY = 20_000


class DunningError(ActionError):
    """No email can be proposed (do-not-dun, disputed, nothing overdue, no contact, ...)."""


class DunningInput(BaseModel):
    customer: str | None = Field(None, description="customer name, external id or id")
    invoice: str | None = Field(None, description="one invoice number or id; all overdue if empty")
    tone: str | None = Field(
        None, description="friendly reminder, firm or final notice; by dunning stage if empty"
    )
    requested_by: str = Field(min_length=1, description="Slack user id of the person asking")

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
        if not self.customer and not self.invoice:
            raise ValueError("name a customer or an invoice to remind about")


class DunningDraft(BaseModel):
    subject: str
    body: str
    drafted_by: str


# --- stage and tone -------------------------------------------------------------------------


def stage_of(days_past_due: int, stages_days: list[int]) -> int:
    """Index of the last stage whose day offset has been reached (0 if none yet)."""
    reached = [i for i, d in enumerate(stages_days) if days_past_due >= d]
    return reached[-1] if reached else 0


def tone_of(stage: int, n_stages: int) -> str:
    if stage >= n_stages - 1 and n_stages > 1:
        return TONES[2]
    return TONES[1] if stage >= 2 else TONES[0]


# --- facts ----------------------------------------------------------------------------------


def _invoice_item(f: InvoiceFacts, as_of: date) -> dict[str, Any]:
    return {
        "id": f.id,
        "label": f.label,
        "currency": f.currency,
        "open_minor": f.open_minor,
        "due_on": f.due_on.isoformat(),
        "days_past_due": (as_of - f.due_on).days,
        "payment_url": f.payment_url,
    }


def _blocked(f: InvoiceFacts) -> str | None:
    if f.disputed:
        return f"{f.label} is disputed"
    if f.promised_on is not None:
        return f"{f.label} has a promise to pay by {f.promised_on.isoformat()}"
    return None


def recipient_of(customer: Customer) -> str | None:
    return customer.ap_email or customer.email


def recheck(deps: ToolDeps, payload: dict[str, Any], *, now: datetime) -> str | None:
    """Why this email must not go out any more (None when the facts still hold)."""
    s = deps.settings
    with deps.sessions() as session:
        customer = q.get_customer(session, int(payload["customer_id"]))
        if customer is None:
            return "the customer no longer exists"
        if customer.do_not_dun:
            return f"{customer.name} is marked do-not-dun"
        if recipient_of(customer) != payload["recipient"]:
            return "the customer's AP contact changed since the draft"
        ids = [int(i["id"]) for i in payload["invoices"]]
        facts = {
            f.id: f
            for f in q.invoice_facts(
                session,
                cut=day_cut(today(s.tz, now), s.tz),
                today=today(s.tz, now),
                invoice_ids=ids,
            )
        }
    for item in payload["invoices"]:
        f = facts.get(int(item["id"]))
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
        reason = _blocked(f)
        if reason:
            return f"{reason} since the draft"
    return None


# --- drafting -------------------------------------------------------------------------------


def _plain_amount(minor: int, currency: str) -> str:
    return f"{to_major(minor, currency):,.{exponent(currency)}f}"


def totals(items: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in items:
        out[i["currency"]] = out.get(i["currency"], 0) + int(i["open_minor"])
    return out


def _total_text(items: list[dict[str, Any]]) -> str:
    return " + ".join(format_money(m, c) for c, m in totals(items).items())


def _line(i: dict[str, Any]) -> str:
    days = int(i["days_past_due"])
    when = f"{days} days overdue" if days > 0 else "due today" if days == 0 else "not yet due"
    money = format_money(i["open_minor"], i["currency"])
    line = f"- {i['label']}: {money}, due {i['due_on']} ({when})"
    if i.get("payment_url"):
        line += f"\n  Pay online: {i['payment_url']}"
    return line


_OPENINGS = {
    TONES[0]: "This is a friendly reminder that the following invoice{s} {is_are} open on "
    "your account. If it has slipped through the cracks, we would be grateful if you could "
    "arrange payment.",
    TONES[1]: "Our records show that the following invoice{s} {is_are} overdue. Please arrange "
    "payment, or let us know the date you will pay, within 7 days.",
    TONES[2]: "This is our final notice about the following overdue invoice{s}. Unless payment "
    "is received within 7 days, we will have to escalate this account, which may include "
    "suspending service.",
}
_SUBJECTS = {TONES[0]: "Reminder", TONES[1]: "Overdue", TONES[2]: "Final notice"}


def template_draft(
    company: str, customer_name: str, tone: str, items: list[dict[str, Any]]
) -> DunningDraft:
    many = len(items) > 1
    if many:
        subject = f"{_SUBJECTS[tone]}: {len(items)} open invoices, {_total_text(items)}"
    else:
        i = items[0]
        money = format_money(i["open_minor"], i["currency"])
        subject = f"{_SUBJECTS[tone]}: invoice {i['label']} ({money}) due {i['due_on']}"
    opening = _OPENINGS[tone].format(s="s" if many else "", is_are="are" if many else "is")
    body = "\n".join(
        [
            f"Hello {customer_name} accounts payable team,",
            "",
            opening,
            "",
            *(_line(i) for i in items),
            "",
            f"Total open: {_total_text(items)}",
            "",
            "If you have already paid, thank you, and please reply with the remittance details "
            "so we can match your payment.",
            "",
            "Kind regards,",
            f"{company} Accounts Receivable",
        ]
    )
    return DunningDraft(subject=subject[:MAX_SUBJECT], body=body, drafted_by="template")


def llm_draft(
    settings: Settings, customer_name: str, tone: str, items: list[dict[str, Any]], on: date
) -> DunningDraft:
    """Ask the configured chat model; raises on any transport or format problem."""
    prompt = render_prompt(
        "dunning_email",
        settings,
        today=on,
        tone=tone,
        customer_name=customer_name,
        invoice_lines="\n".join(_line(i) for i in items),
        total=_total_text(items),
    )
    model = chat_model(settings, temperature=0.2)
    reply = model.invoke(prompt)
    text = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if not match:
        raise ValueError("the model did not answer with a JSON object")
    data = json.loads(match.group(0))
    return DunningDraft(
        subject=str(data["subject"]).strip(), body=str(data["body"]).strip(), drafted_by="llm"
    )


_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")


def check_draft(subject: str, body: str, payload: dict[str, Any]) -> list[str]:
    """What is wrong with a subject/body for this email (empty list: fine).

    Applied to LLM drafts and to every edit, so an email always states each invoice and its
    exact open amount, and never names an address other than the recipient's.
    """
    problems = []
    if not subject.strip():
        problems.append("the subject is empty")
    if "\n" in subject.strip() or len(subject) > MAX_SUBJECT:
        problems.append(f"the subject must be one line of at most {MAX_SUBJECT} characters")
    if not body.strip():
        problems.append("the body is empty")
    if len(body) > MAX_BODY:
        problems.append(f"the body is longer than {MAX_BODY} characters")
    for i in payload["invoices"]:
        if i["label"] not in body:
            problems.append(f"the body must name invoice {i['label']}")
        if _plain_amount(int(i["open_minor"]), i["currency"]) not in body:
            money = format_money(int(i["open_minor"]), i["currency"])
            problems.append(f"the body must state {i['label']}'s open amount {money}")
    others = {m for m in _EMAIL_RE.findall(subject + " " + body) if m != payload["recipient"]}
    if others:
        problems.append("the email must not contain other email addresses")
    return problems


# --- the tool -------------------------------------------------------------------------------


def _resolve_customer(deps: ToolDeps, args: DunningInput) -> Customer:
    with deps.sessions() as session:
        if args.invoice:
            found = q.find_invoices(session, args.invoice)
            if not found:
                raise DunningError(f"no invoice {args.invoice!r}")
            if len(found) > 1:
                raise DunningError(f"{args.invoice!r} matches {len(found)} invoices; use its id")
            customer = q.get_customer(session, found[0].customer_id)
            assert customer is not None
            if (
                args.customer
                and args.customer.strip()
                not in (
                    str(customer.id),
                    customer.external_id,
                )
                and args.customer.strip().lower() not in customer.name.lower()
            ):
                raise DunningError(f"invoice {args.invoice} belongs to {customer.name}")
            return customer
        assert args.customer is not None
        matches = q.find_customers(session, args.customer)
        if not matches:
            raise DunningError(f"no customer matches {args.customer!r}")
        exact = [c for c in matches if c.name.lower() == args.customer.strip().lower()]
        if len(matches) > 1 and len(exact) != 1:
            names = ", ".join(f"{c.name} ({c.external_id})" for c in matches)
            raise DunningError(f"{args.customer!r} matches several customers: {names}")
        return exact[0] if exact else matches[0]


def propose_dunning_email(
    deps: ToolDeps,
    args: DunningInput,
    *,
    now: datetime | None = None,
    thread: dict[str, Any] | None = None,
) -> ActionInfo:
    """Draft the reminder and store it as a proposed action awaiting approval."""
    s = deps.settings
    now = now or actions.now_utc()
    as_of = today(s.tz, now)
    customer = _resolve_customer(deps, args)
    if customer.do_not_dun:
        raise DunningError(f"{customer.name} is marked do-not-dun; no reminder can be drafted")
    recipient = recipient_of(customer)
    if not recipient:
        raise DunningError(f"{customer.name} has no AP or billing email on record")
    with deps.sessions() as session:
        facts = q.invoice_facts(
            session,
            cut=day_cut(as_of, s.tz),
            today=as_of,
            customer_id=customer.id,
            only_open=True,
        )
    if args.invoice:
        with deps.sessions() as session:
            wanted = {i.id for i in q.find_invoices(session, args.invoice)}
        facts = [f for f in facts if f.id in wanted]
        if not facts:
            raise DunningError(f"invoice {args.invoice} is not open; nothing to remind about")
    else:
        facts = [f for f in facts if (as_of - f.due_on).days >= s.dunning_stages_days[0]]
        if not facts:
            raise DunningError(f"{customer.name} has no open invoice due for a reminder")
    blocked = [r for r in (_blocked(f) for f in facts) if r]
    if args.invoice and blocked:
        raise DunningError(f"no reminder: {blocked[0]}")
    facts = [f for f in facts if _blocked(f) is None]
    if not facts:
        raise DunningError(f"no reminder for {customer.name}: {'; '.join(blocked)}")

    items = [_invoice_item(f, as_of) for f in facts]
    stage = stage_of(max(i["days_past_due"] for i in items), s.dunning_stages_days)
    tone = args.tone or tone_of(stage, len(s.dunning_stages_days))
    payload: dict[str, Any] = {
        "customer_id": customer.id,
        "customer_name": customer.name,
        "recipient": recipient,
        "invoices": items,
        "totals": totals(items),
        "tone": tone,
        "stage": stage,
        "approvals_needed": 1,
        "excluded": blocked,
        "thread": thread,
    }
    draft = None
    if s.openai_api_key is not None:
        try:
            draft = llm_draft(s, customer.name, tone, items, as_of)
            problems = check_draft(draft.subject, draft.body, payload)
            if problems:
                log.warning("event=dunning_llm_draft_rejected problems=%d", len(problems))
                draft = None
        except Exception as exc:  # any model failure falls back to the template
            log.warning("event=dunning_llm_failed error=%s", type(exc).__name__)
            draft = None
    if draft is None:
        draft = template_draft(s.company_name, customer.name, tone, items)
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
    if user not in deps.settings.approvers and user != a.proposed_by:
        raise actions.Refused("Only approvers or the person who proposed it can edit a draft.")
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
