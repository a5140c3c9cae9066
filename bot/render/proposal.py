"""A proposed action as its approval card, drawn from one set of lines.

The card says what will happen (recipient, subject and body; or invoice, amount, reason and
effect) and where the action stands. `compose` turns the same lines into the card's blocks
and into its plain text, which is Slack's notification text and what `arbot ask` and
`arbot propose` print. While the action is proposed the card ends with its buttons.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from bot.blocks.approval import approval_buttons
from bot.blocks.common import MAX_SECTION_CHARS, Rendered, escape
from bot.intents import Intent
from bot.render.layout import Code, Icon, Line, Mention, Strong, compose
from tools.action_model import RECORD_KINDS, cli_os_user
from tools.actions import ActionInfo
from tools.dual_approval import DUAL_APPROVAL_WINDOW
from tools.format import LABELS, format_figure
from tools.money import format_money

# A code block's fences and a little slack, within Slack's 3,000-character section.
_BODY_CHUNK = MAX_SECTION_CHARS - 10


def _who(user: str | None) -> str:
    return Mention(user) if user else "arbot"


def _people(users: Sequence[str]) -> list[str]:
    """Each user as a mention, separated by commas."""
    out: list[str] = []
    for user in users:
        out += [", ", _who(user)] if out else [_who(user)]
    return out


def _proposed_by(a: ActionInfo) -> list[str]:
    """Who proposed it: a Slack user as a mention; from the command line, the OS user, said
    as such, so an approver knows no Slack identity stands behind it."""
    if a.payload.get("by_assistant"):
        # The assistant chose it; the person only asked: an approver must not read it as theirs.
        return [" drafted by the assistant for ", _who(a.proposed_by)]
    os_user = cli_os_user(a.proposed_by)
    if os_user is None:
        return [" proposed by ", _who(a.proposed_by)]
    if not os_user:
        return [". Proposed from the command line"]
    return [". Proposed from the command line by OS user ", os_user]


def title(a: ActionInfo) -> str:
    p = a.payload
    if a.kind == "promise_to_pay":
        return f"Promise to pay: {p['invoice']['label']} by {p['promised_on']}"
    if a.kind == "dispute_note":
        return f"Dispute note: {p['invoice']['label']}"
    if a.kind == "write_off":
        inv = p["invoice"]
        return f"Write-off: {inv['label']} ({format_money(inv['open_minor'], inv['currency'])})"
    if a.kind == "books_payment":
        inv, money = p["invoice"], format_money(p["amount_minor"], p["currency"])
        return f"Bank receipt on {inv.get('number') or inv['external_id']} ({money})"
    return f"Reminder to {p['customer_name']} ({p['tone']})"


def _waiting(a: ActionInfo) -> Line:
    if a.approvals_needed <= 1:
        return (Icon(":hourglass:"), "Waiting for approval")
    so_far = _people(a.approved_by)
    return (
        Icon(":hourglass:"),
        f"Waiting for approval ({len(a.approved_by)} of {a.approvals_needed} approvals",
        *([": ", *so_far] if so_far else []),
        ")",
    )


def status_line(a: ActionInfo) -> Line:
    """Where the action stands: the card's last line, redrawn after every decision."""
    if a.kind in RECORD_KINDS and a.status in ("proposed", "done"):
        if a.status == "proposed":
            return (Icon(":hourglass:"), "Waiting for a finance user or an approver to confirm")
        return (Icon(":white_check_mark:"), "Confirmed by ", _who(a.decided_by), "; recorded")
    if a.status == "proposed":
        return _waiting(a)
    approvers = _people(a.approved_by) or [_who(a.decided_by)]
    approved = (Icon(":white_check_mark:"), "Approved by ", *approvers)
    if a.status == "approved":
        retry = (" (retrying: ", a.last_error, ")") if a.last_error else ()
        return (*approved, "; queued", *retry)
    if a.status == "executing":
        return (*approved, "; executing now")
    if a.status == "done" and a.last_error:
        # The outbox could not learn whether SMTP took the email: say so, never "sent to".
        return (Icon(":grey_question:"), *approved[1:], "; ", a.last_error)
    if a.status == "done":
        if a.kind == "books_payment":  # the note names the books and their payment
            return (*approved, f"; {a.decision_note or 'recorded in the books'}")
        done = "written off" if a.kind == "write_off" else f"sent to {a.payload['recipient']}"
        books = (" (", a.decision_note, ")") if a.kind == "write_off" and a.decision_note else ()
        return (*approved, f"; {done}", *books)
    if a.status == "rejected":
        return (Icon(":x:"), "Rejected by ", _who(a.decided_by), ": ", a.decision_note or "")
    if a.status == "expired":
        return (Icon(":zzz:"), "Expired: nobody decided in time")
    if a.status == "cancelled":
        return (Icon(":no_entry_sign:"), a.decision_note or "Cancelled")
    if a.status == "failed":
        return (Icon(":warning:"), *approved[1:], ", but it failed: ", a.last_error or "")
    return (a.status,)


def body_parts(body: str) -> list[str]:
    """The whole body in pieces that each fit one section once escaped for Slack.

    A draft fits one piece (tools.dunning.MAX_BODY); escaping `&` and `<` can lengthen it, and
    a stored draft is shown whole whatever its length, never cut: what is approved is read.
    """
    parts: list[str] = []
    part = ""
    for line in body.splitlines(keepends=True):
        while len(escape(line)) > _BODY_CHUNK:  # one very long line: split it
            cut = _BODY_CHUNK // 5
            line, head = line[cut:], line[:cut]
            if part:
                parts.append(part)
                part = ""
            parts.append(head)
        if len(escape(part + line)) > _BODY_CHUNK:
            parts.append(part)
            part = ""
        part += line
    return [*parts, part] if part else parts


def _dunning_lines(a: ActionInfo) -> list[Line]:
    p = a.payload
    lines: list[Line] = [
        ("Action #", str(a.id), *_proposed_by(a), f" ({p['tone']}, {p['drafted_by']})"),
        (Strong("To:"), " ", p["recipient"], " (AP contact on record)"),
        (Strong("Subject:"), " ", p["subject"]),
        *((Code(part.rstrip("\n")),) for part in body_parts(p["body"])),
    ]  # fmt: skip
    if p.get("drafted_by") == "llm":
        lines.append(
            (Icon(":warning:"), "Body written by the assistant's model: read it before approving")
        )
    if p.get("excluded"):
        lines.append(("Left out: ", "; ".join(p["excluded"])))
    if p.get("drafted_by") == "edited":
        lines.append(("Edited by ", *_people(p.get("edited_by", []))))
    return lines


def _change(name: str, before: str | None, after: str | None) -> Line:
    """A report figure before and after the write-off (stored as rounded decimal strings)."""
    shown = [format_figure(name, None if v is None else Decimal(v)) for v in (before, after)]
    return (f"• {LABELS[name]}: {shown[0]} → {shown[1]}",)


def _reason(a: ActionInfo) -> Line:
    """The reason as given: the person's own words when the assistant drafted it."""
    if a.payload.get("by_assistant"):
        return (Strong("Reason"), " (", _who(a.proposed_by), "'s words): ", a.payload["reason"])
    return (Strong("Reason:"), " ", a.payload["reason"])


def _write_off_lines(a: ActionInfo) -> list[Line]:
    p = a.payload
    inv, e = p["invoice"], p["effect"]
    cur = e["currency"]
    amount = format_money(inv["open_minor"], inv["currency"])
    shortfall = e["allowance_shortfall_minor"]
    lines: list[Line] = [
        ("Action #", str(a.id), *_proposed_by(a)),
        (Strong("Customer:"), " ", p["customer_name"]),
        (Strong("Invoice:"), " ", inv["label"], f" (due {inv['due_on']}, {inv['source']})"),
        (Strong("Amount:"), f" {amount}"),
        _reason(a),
        (Strong("Effect"),),
        (f"• Allowance used: {format_money(e['allowance_used_minor'], cur)} of "
         f"{format_money(e['allowance_before_minor'], cur)}",
         f" (exceeds it by {format_money(shortfall, cur)})" if shortfall else ""),
        _change("bad_debt_pct", e["bad_debt_pct_before"], e["bad_debt_pct_after"]),
        _change("dso", e["dso_before"], e["dso_after"]),
    ]  # fmt: skip
    if a.approvals_needed > 1:
        lines.append(_needs_two(a.approvals_needed, p.get("dual_approval")))
    return lines


def _needs_two(needed: int, dual: dict[str, Any] | None) -> Line:
    """Why two approvers: the amount in the reporting currency, with the customer's other
    recent write-offs when they tipped it over the threshold."""
    if not dual:
        return (f"• Needs {needed} different approvers (at or above threshold)",)
    cur = dual["currency"]
    why = format_money(dual["amount_minor"], cur)
    if dual["recent_count"]:
        n = dual["recent_count"]
        why += (
            f" plus {format_money(dual['recent_minor'], cur)} in {n} other write-off"
            f"{'s' if n > 1 else ''} of this customer in the last {DUAL_APPROVAL_WINDOW.days} days"
        )
    threshold = format_money(dual["threshold_minor"], cur)
    return (f"• Needs {needed} different approvers ({why}, at or above {threshold})",)


def _record_lines(a: ActionInfo) -> list[Line]:
    """A promise or dispute note the assistant proposed: exactly what will be recorded."""
    p = a.payload
    lines: list[Line] = [
        ("Action #", str(a.id), " drafted by the assistant for ", _who(a.proposed_by)),
        (Strong("Customer:"), " ", p["customer_name"]),
        (Strong("Invoice:"), " ", p["invoice"]["label"]),
    ]
    if a.kind == "promise_to_pay":
        lines += [
            (Strong("Promised on:"), " ", p["promised_on"]),
            (Strong("Amount:"), " ", p["amount"]),
            ("Once confirmed, reminders for this invoice pause until that date.",),
        ]
    else:
        lines += [("The note, in ", _who(a.proposed_by), "'s words:"), (Code(p["text"]),)]
    return lines


def _lines(a: ActionInfo) -> list[Line]:
    if a.kind in RECORD_KINDS:
        return _record_lines(a)
    if a.kind == "books_payment":
        p = a.payload
        return [("A bank receipt applied by ", _who(a.decided_by), ", written to the books: ",
                 Code(str(p["bank_payment"])))]  # fmt: skip
    return _write_off_lines(a) if a.kind == "write_off" else _dunning_lines(a)


def proposal_view(a: ActionInfo, intent: Intent | None = None) -> Rendered:
    """The approval card: its blocks (with buttons while proposed) and its plain text."""
    buttons = approval_buttons(a)
    return compose(
        title=title(a),
        lines=_lines(a),
        note=status_line(a),
        extra=[buttons] if buttons else [],
    )
