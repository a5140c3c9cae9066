"""Plain-text answers from the tools' results: for `arbot ask`, notifications and fallbacks.

Block Kit views live in bot/blocks; this is the words-only version of the same numbers,
formatted with the same money and ratio helpers as `arbot report`.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tools.buckets import BUCKETS, over_label
from tools.cash import UnappliedCash
from tools.customer_lookup import CustomerMatch
from tools.customers import CustomerBalance
from tools.disputes import OpenDisputes
from tools.format import format_ratio
from tools.metrics import ArMetrics
from tools.money import format_money
from tools.overdue import TopOverdue

LIST_LINES = 10

EXAMPLES = [
    ("AR now", "what's our AR right now?"),
    ("Aging", "aging as of June 30"),
    ("DSO and friends", "DSO last quarter · best possible DSO · ADD · CEI · turnover · bad debt %"),
    ("A customer", "what's Acme's balance? · open invoices for Globex"),
    ("Who to chase", "top 10 overdue accounts · who is 60+ days late?"),
    ("Disputes", "open disputes"),
    ("Unapplied cash", "unapplied cash"),
    ("All KPIs", "AR report as of 2024-03-31"),
]


def help_text() -> str:
    lines = ["Here is what I can answer right away (add a date for history, e.g. 'as of June 30'):"]
    lines += [f"• {what}: {example}" for what, example in EXAMPLES]
    return "\n".join(lines)


def ratio(value: Decimal | None, unit: str = "") -> str:
    return format_ratio(value, unit)


def money(amount_minor: int, currency: str) -> str:
    return format_money(amount_minor, currency)


def metric_lines(m: ArMetrics, topic: str) -> list[str]:
    cur = m.currency
    window = f"{m.period_days}-day window"
    dso = f"DSO: {ratio(m.dso, ' days')} ({window})"
    best = f"Best possible DSO: {ratio(m.best_possible_dso, ' days')}"
    add = f"Average days delinquent: {ratio(m.average_days_delinquent, ' days')}"
    by_topic: dict[str, list[str]] = {
        "ar": [
            f"AR: {money(m.ar_total_minor, cur)}",
            f"Past due: {money(m.ar_total_minor - m.aging_minor['current'], cur)}",
            f"Unapplied cash (not netted): {money(m.unapplied_cash_minor, cur)}",
        ],
        "dso": [dso, best, add],
        "best_dso": [best, dso],
        "add": [add, dso, best],
        "cei": [f"CEI: {ratio(m.cei_pct, '%')} ({window})"],
        "turnover": [f"AR turnover (annualised): {ratio(m.ar_turnover, 'x')} ({window})"],
        "bad_debt": [
            f"Bad debt: {ratio(m.bad_debt_pct, '%')} of credit sales ({window})",
            f"Written off: {money(m.written_off_minor, cur)}",
        ],
        "allowance": [f"Allowance for doubtful accounts: {money(m.allowance_minor, cur)}"],
    }
    if topic in by_topic:
        return by_topic[topic]
    aging = [f"{b}: {money(m.aging_minor[b], cur)} ({ratio(m.aging_pct[b], '%')})" for b in BUCKETS]
    if topic == "aging":
        return [f"AR: {money(m.ar_total_minor, cur)}", *aging]
    return [
        f"AR: {money(m.ar_total_minor, cur)}",
        *aging,
        f"Credit sales in window: {money(m.credit_sales_minor, cur)}",
        dso,
        best,
        add,
        f"CEI: {ratio(m.cei_pct, '%')}",
        f"AR turnover (annualised): {ratio(m.ar_turnover, 'x')}",
        f"Bad debt: {ratio(m.bad_debt_pct, '%')}",
        f"Weighted days past due: {ratio(m.weighted_days_past_due, ' days')}",
        f"Dunning recovery rate: {ratio(m.dunning_recovery_rate_pct, '%')}",
        f"Allowance for doubtful accounts: {money(m.allowance_minor, cur)}",
        f"Unapplied cash (not netted): {money(m.unapplied_cash_minor, cur)}",
    ]


TITLES = {
    "ar": "Accounts receivable",
    "aging": "AR aging",
    "dso": "DSO",
    "best_dso": "Best possible DSO",
    "add": "Average days delinquent",
    "cei": "Collection effectiveness index",
    "turnover": "AR turnover",
    "bad_debt": "Bad debt",
    "allowance": "Allowance for doubtful accounts",
    "all": "AR report",
}


def metrics_title(m: ArMetrics, topic: str) -> str:
    return f"{TITLES.get(topic, 'AR report')} as of {m.as_of} ({m.currency})"


def customer_match_text(match: CustomerMatch) -> str:
    if match.status == "none":
        return (
            f"I found no customer matching “{match.query}”. "
            "Check the spelling or try the customer id."
        )
    names = ", ".join(c.name for c in match.candidates)
    return f"Several customers match “{match.query}”: {names}. Which one do you mean?"


def customer_text(c: CustomerBalance) -> list[str]:
    lines = [
        f"{c.name} owes {money(c.balance_minor, c.currency)} as of {c.as_of} "
        f"({money(c.past_due_minor, c.currency)} past due) on {c.invoice_count} open invoice(s)."
    ]
    if set(c.balance_by_currency) - {c.currency}:
        lines.append(
            "By currency: "
            + ", ".join(money(v, cur) for cur, v in sorted(c.balance_by_currency.items()))
        )
    for inv in c.invoices[:LIST_LINES]:
        late = f"{inv.days_past_due} days late" if inv.days_past_due > 0 else "not yet due"
        lines.append(
            f"• {inv.number or inv.external_id}: {money(inv.open_minor, inv.currency)} open of "
            f"{money(inv.total_minor, inv.currency)}, due {inv.due_on} ({late})"
        )
    if len(c.invoices) > LIST_LINES:
        lines.append(f"… and {len(c.invoices) - LIST_LINES} more")
    return lines


def overdue_text(t: TopOverdue) -> list[str]:
    what = over_label(t.more_than_days)
    lines = [
        f"{money(t.total_overdue_minor, t.currency)} {what} across {t.account_count} "
        f"account(s) as of {t.as_of}."
    ]
    for i, a in enumerate(t.accounts, 1):
        lines.append(
            f"{i}. {a.name}: {money(a.overdue_minor, t.currency)}, oldest "
            f"{a.oldest_days_past_due} days past due, {a.invoice_count} invoice(s)"
        )
    if t.account_count > len(t.accounts):
        lines.append(f"… and {t.account_count - len(t.accounts)} more")
    return lines


def disputes_text(d: OpenDisputes) -> list[str]:
    lines = [
        f"{d.count} open dispute(s) as of {d.as_of}, {money(d.total_minor, d.currency)} in total."
    ]
    for x in d.disputes[:LIST_LINES]:
        inv = f" on {x.invoice_number}" if x.invoice_number else ""
        lines.append(
            f"• {x.customer_name}{inv}: {money(x.amount_minor, x.currency)} {x.kind}, "
            f"open {x.age_days} days"
        )
    if d.count > LIST_LINES:
        lines.append(f"… and {d.count - LIST_LINES} more")
    return lines


def unapplied_text(u: UnappliedCash) -> list[str]:
    lines = [
        f"Unapplied cash as of {u.as_of}: {money(u.total_minor, u.currency)} "
        f"in {u.count} payment(s)."
    ]
    for p in u.payments[:LIST_LINES]:
        lines.append(
            f"• {p.customer_name}: {money(p.amount_minor, p.currency)} received "
            f"{p.paid_at.date()} ({p.method or 'unknown method'})"
        )
    if u.count > LIST_LINES:
        lines.append(f"… and {u.count - LIST_LINES} more")
    return lines


def answer_text(result: Any, topic: str | None) -> str:
    if isinstance(result, ArMetrics):
        t = topic or "all"
        return "\n".join([metrics_title(result, t), *metric_lines(result, t)])
    if isinstance(result, CustomerMatch):
        return customer_match_text(result)
    if isinstance(result, CustomerBalance):
        return "\n".join(customer_text(result))
    if isinstance(result, TopOverdue):
        return "\n".join(overdue_text(result))
    if isinstance(result, OpenDisputes):
        return "\n".join(disputes_text(result))
    if isinstance(result, UnappliedCash):
        return "\n".join(unapplied_text(result))
    return str(result)
