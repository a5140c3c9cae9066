"""The agent's read tools that the fast path has no intent for: aging of one customer or
segment, one customer's whole picture, payment speed and the accounts at risk.

Drawn like every other answer (`compose`), from the tool's typed result alone, so what the
agent posts for them is the ledger's own words and figures.
"""

from __future__ import annotations

from bot.blocks.common import Rendered
from bot.blocks.money import risk_money_text
from bot.intents import Intent
from bot.render.customer import invoice_line
from bot.render.layout import Line, Strong, compose
from tools.aging import Aging
from tools.buckets import BUCKETS
from tools.customer_detail import CustomerDetail
from tools.format import format_days, format_pay_speed, format_pct, plural
from tools.money import format_money
from tools.payment_history import PaymentHistory
from tools.risk_money import AtRiskList

NOTE_CHARS = 200


def aging_view(a: Aging, intent: Intent | None = None) -> Rendered:
    items: list[Line] = [
        (
            "• ",
            Strong(b),
            f": {format_money(a.buckets_minor.get(b, 0), a.currency)} "
            f"({format_pct(a.buckets_pct.get(b))})",
        )
        for b in BUCKETS
    ]
    total = (
        Strong(format_money(a.total_minor, a.currency)),
        f" open in {plural(a.open_invoices, 'invoice')}.",
    )
    return compose(title=f"Aging of {a.scope} as of {a.as_of}", lines=[total], items=items)


def _sums(by_currency: dict[str, int]) -> str:
    return " + ".join(format_money(v, c) for c, v in sorted(by_currency.items())) or "nothing"


def customer_detail_view(c: CustomerDetail, intent: Intent | None = None) -> Rendered:
    lines: list[Line] = [
        (
            Strong(c.name),
            f" owes {_sums(c.balance_by_currency)} as of {c.as_of}, "
            f"{_sums(c.past_due_by_currency)} past due, "
            f"{plural(c.open_invoice_count, 'open invoice')}.",
        )
    ]
    terms = f"{c.payment_terms_days} days" if c.payment_terms_days is not None else "not set"
    limit = format_money(c.credit_limit_minor, c.currency) if c.credit_limit_minor else "none"
    lines.append((f"Segment {c.segment or 'none'} · terms {terms} · credit limit {limit}",))
    if c.do_not_dun:
        lines.append(("Do not dun.",))
    items: list[Line] = [invoice_line(i) for i in c.open_invoices]
    items += [
        (
            "• Payment ",
            f"{p.paid_on}: {format_money(p.amount_minor, p.currency)} {p.status}",
            f" ({p.failure_reason})" if p.failure_reason else "",
            f" on {p.invoice_number}" if p.invoice_number else "",
        )
        for p in c.recent_payments
    ]
    items += [
        (
            f"• {d.kind.capitalize()} dispute ",
            f"opened {d.opened_on}: {format_money(d.amount_minor, d.currency)}",
            f" on {d.invoice_number}" if d.invoice_number else "",
            f" · “{d.reason[:NOTE_CHARS]}”" if d.reason else "",
            f" · resolved {d.resolved_on}" if d.resolved_on else "",
        )
        for d in c.disputes
    ]
    items += [
        (
            "• Promise ",
            f"to pay {format_money(p.amount_minor, p.currency)} by {p.promised_on}: {p.status}",
            f" on {p.invoice_number}" if p.invoice_number else "",
        )
        for p in c.promises
    ]
    items += [(f"• Note {n.written_on} by {n.author}: ", n.body[:NOTE_CHARS]) for n in c.notes]
    return compose(title=f"{c.name} · account", lines=lines, items=items)


def payment_history_view(h: PaymentHistory, intent: Intent | None = None) -> Rendered:
    items: list[Line] = [
        (
            "• ",
            Strong(r.name),
            f": {format_pay_speed(r.avg_days_late)} on average "
            f"({format_days(r.avg_days_to_pay)} to pay, at most {plural(r.max_days_late, 'day')} "
            f"late) over {plural(r.invoices_paid, 'paid invoice')}",
            f" · owes {_sums(r.balance_by_currency)}" if h.group_by == "customer" else "",
        )
        for r in h.rows
    ]
    return compose(
        title=f"Payment speed by {h.group_by}, {h.period_days} days to {h.as_of}",
        lines=[] if h.rows else [("No invoice was fully paid in that window.",)],
        items=items,
        total=len(h.rows) + h.more_rows,
    )


def at_risk_view(r: AtRiskList, intent: Intent | None = None) -> Rendered:
    items: list[Line] = [
        ("• ", Strong(a.name), f": {risk_money_text(a)}", f" · {'; '.join(a.reasons)}")
        for a in r.accounts
    ]
    summary = (
        Strong(format_money(r.total_at_risk_minor, r.currency)),
        f" at risk across {plural(len(r.accounts) + r.more_accounts, 'account')} "
        f"({r.min_level} risk and above).",
    )
    return compose(
        title=f"Accounts at risk as of {r.as_of}",
        lines=[summary],
        items=items,
        total=len(r.accounts) + r.more_accounts,
    )
