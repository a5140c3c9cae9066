"""The reminder's text: drafted by the LLM when one is configured, else by a plain template,
and checked before anyone sees it.

Whoever wrote it (model, template or a person editing it), `check_draft` makes sure the email
states every invoice with its exact open amount and names no address but the recipient's.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import date
from typing import Any

from pydantic import BaseModel

from tools.dunning.eligibility import TONES
from tools.format import format_lateness
from tools.llm import chat_model, render_prompt
from tools.mailer import header_problem
from tools.money import format_amount, format_money
from tools.settings import Settings

log = logging.getLogger(__name__)

MAX_SUBJECT = 200
# The longest body a person approves: the approval card shows it whole (Slack's section text
# holds 3,000 characters; the card's own lines and markup take the rest), so what is approved
# is all that goes out.
MAX_BODY = 2_500
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
# Anything a mail client may turn into a link: a scheme with "//", "mailto:", a "www." host,
# or a bare host such as "evil-pay.com/inv/1" or "bit.ly/3xYz" (below).
_LINK_RE = re.compile(r"(?i)\b(?:[a-z][a-z0-9+.-]*://|mailto:|www\.)[^\s<>\"'`]+")
# A bare host is labels ending in a top-level domain of letters: any two letters (the country
# domains) or a common longer one. Not a number ("INV-0001.5", "1,200.00"), a one-letter
# abbreviation ("e.g."), or a file name ("invoice.pdf"); a false alarm only costs a template
# draft or an editor's second try, a miss could send a phishing link.
_GTLDS = (
    "com|net|org|info|biz|app|dev|xyz|online|site|website|shop|store|link|click|top|club|pay"
    "|finance|money|bank|page|live|tech|cloud|email|news|pro|one|vip|work|today|support|help"
    "|services|solutions|digital|network|media|space|world|life|icu|buzz|cam|rest|fun|ink"
)
_BARE_HOST_RE = re.compile(
    rf"(?i)(?<![\w@./:-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_GTLDS}|[a-z]{{2}})"
    r"(?![\w-])(?:[/?#][^\s<>\"'`]*)?"
)
_LINK_TAIL = ".,;:!?)]}'\""
# A reminder asks for money owed; it never offers more credit, a higher limit or longer terms,
# which only a person deciding credit may grant (and never in a collection email).
_CREDIT_OFFER_RE = re.compile(
    r"(?i)\b(?:(?:new|more|additional|extra|further|increased?|higher|extended?)\s+"
    r"(?:line\s+of\s+)?credit(?!\s+notes?)|credit\s+(?:limit\s+)?(?:increase|extension)|"
    r"(?:raise|increase|extend|lift|double)\s+(?:your|the)\s+(?:credit(?:\s+limit)?|limit)|"
    r"(?:extend|lengthen)\s+(?:your\s+|the\s+)?(?:payment\s+)?terms|"
    r"(?:longer|extended)\s+(?:payment\s+)?terms)"
)
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


class DunningDraft(BaseModel):
    subject: str
    body: str
    drafted_by: str


def totals(items: list[dict[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in items:
        out[i["currency"]] = out.get(i["currency"], 0) + int(i["open_minor"])
    return out


def _total_text(items: list[dict[str, Any]]) -> str:
    return " + ".join(format_money(m, c) for c, m in totals(items).items())


def _line(i: dict[str, Any]) -> str:
    days = int(i["days_past_due"])
    when = format_lateness(days)
    money = format_money(i["open_minor"], i["currency"])
    line = f"- {i['label']}: {money}, due {i['due_on']} ({when})"
    if i.get("payment_url"):
        line += f"\n  Pay online: {i['payment_url']}"
    return line


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
    reply = chat_model(settings, temperature=0.2).invoke(prompt)
    text = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
    match = re.search(r"\{.*\}", text, re.DOTALL)
    if not match:
        raise ValueError("the model did not answer with a JSON object")
    data = json.loads(match.group(0))
    return DunningDraft(
        subject=str(data["subject"]).strip(), body=str(data["body"]).strip(), drafted_by="llm"
    )


def draft_email(
    settings: Settings, customer_name: str, on: date, payload: dict[str, Any]
) -> DunningDraft:
    """The LLM's draft when one is configured and it passes the checks, else the template's."""
    tone, items = payload["tone"], payload["invoices"]
    if settings.openai_api_key is not None:
        try:
            draft = llm_draft(settings, customer_name, tone, items, on)
        except Exception as exc:  # any model failure falls back to the template
            log.warning("event=dunning_llm_failed error=%s", type(exc).__name__)
        else:
            problems = check_draft(draft.subject, draft.body, payload)
            if not problems:
                return draft
            log.warning("event=dunning_llm_draft_rejected problems=%d", len(problems))
    return template_draft(settings.company_name, customer_name, tone, items)


def check_draft(subject: str, body: str, payload: dict[str, Any]) -> list[str]:
    """What is wrong with a subject/body for this email (empty list: fine).

    Applied to every draft (model's or template's) and to every edit, so an email always
    states each invoice and its exact open amount, fits the approval card whole, names no
    address but the recipient's, links nowhere but the invoices' payment pages, and has
    headers the outbox can send.
    """
    problems = []
    if not subject.strip():
        problems.append("the subject is empty")
    if len(subject) > MAX_SUBJECT:
        problems.append(f"the subject must be one line of at most {MAX_SUBJECT} characters")
    for field, value in (("subject", subject), ("recipient", payload["recipient"])):
        problem = header_problem(field, value)
        if problem:
            problems.append(problem)
    if not body.strip():
        problems.append("the body is empty")
    if len(body) > MAX_BODY:
        problems.append(
            f"the body is {len(body):,} characters; the most an approval card shows whole is "
            f"{MAX_BODY:,}"
        )
    for i in payload["invoices"]:
        if i["label"] not in body:
            problems.append(f"the body must name invoice {i['label']}")
        if format_amount(int(i["open_minor"]), i["currency"]) not in body:
            money = format_money(int(i["open_minor"]), i["currency"])
            problems.append(f"the body must state {i['label']}'s open amount {money}")
    offer = _CREDIT_OFFER_RE.search(subject + " " + body)
    if offer:
        problems.append(f"a reminder must not offer new credit or terms ({offer.group()!r})")
    others = {m for m in _EMAIL_RE.findall(subject + " " + body) if m != payload["recipient"]}
    if others:
        problems.append("the email must not contain other email addresses")
    foreign = foreign_links(
        subject + " " + body, payload["invoices"], payload.get("customer_name", "")
    )
    if foreign:
        problems.append(
            "the email may link only to the invoice's own payment page, not "
            + ", ".join(foreign[:3])
        )
    return problems


def foreign_links(text: str, invoices: list[dict[str, Any]], customer_name: str = "") -> list[str]:
    """The links in `text` other than the invoices' own payment pages (hosted invoice URLs):
    a reminder is where a phishing link would do most harm, so no other link goes out.

    Bare hosts count as links (mail clients link them too); an email address does not (the
    address check covers it) unless written as "mailto:", nor does a host in the customer's
    own name ("Booking.com B.V.").
    """
    allowed = {i["payment_url"] for i in invoices if i.get("payment_url")}
    found = [m.group().rstrip(_LINK_TAIL) for m in _LINK_RE.finditer(text)]
    rest = _EMAIL_RE.sub(" ", _LINK_RE.sub(" ", text))
    named = {m.group().lower() for m in _BARE_HOST_RE.finditer(customer_name)}
    for m in _BARE_HOST_RE.finditer(rest):
        host = m.group().rstrip(_LINK_TAIL)
        if host.lower() not in named:
            found.append(host)
    return [link for link in found if link not in allowed]
