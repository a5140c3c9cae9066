"""The Monday digest as Slack blocks and a CSV: pure functions of `tools.digest.Digest`.

The channel message is the summary a controller reads in ten seconds (AR and its change,
aging, the metrics against their targets with an up/down mark); the thread holds the
details (top overdue, disputes by age, at-risk accounts, what the bot did) and the CSV of
every number. Each stays under Slack's 50 blocks and 3,000 characters per section.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from bot.blocks.common import context, escape, fit, header, plain, sections
from bot.blocks.look_ahead import look_ahead_lines, look_ahead_rows
from tools.buckets import BUCKETS
from tools.csv_export import Cell, csv_bytes
from tools.digest import Digest
from tools.format import LABELS, format_figure, format_pct, format_ratio, round_ratio
from tools.metrics import ArMetrics
from tools.money import format_major, format_money
from tools.targets import TargetCheck

MARKS = {"better": ":arrow_up_small:", "worse": ":arrow_down_small:"}


def _signed(minor: int, currency: str) -> str:
    sign = "+" if minor > 0 else "-" if minor < 0 else "±"
    return f"{sign}{format_money(abs(minor), currency)}"


def _figure(m: ArMetrics, field: str) -> str:
    return f"*{LABELS[field]}* {format_figure(field, getattr(m, field))}"


def target_line(t: TargetCheck) -> str:
    """`DSO 71.6 days (target < 45 days) :x: :arrow_up_small: better by 0.0 since last week`."""
    status = "" if t.met is None else (":white_check_mark:" if t.met else ":x:")
    op = ">" if t.higher_is_better else "<"
    line = f"*{t.name}* {format_ratio(t.value, t.unit)} (target {op} {t.target}{t.unit}) {status}"
    if t.change is not None:
        mark = MARKS.get(t.direction, ":left_right_arrow:")
        line += f" {mark} {t.direction}, {format_ratio(abs(t.change), t.unit)} vs last week"
    return line


def summary_text(d: Digest) -> str:
    m = d.metrics
    return plain(
        f"AR digest for the week ending {d.as_of}: AR {format_money(m.ar_total_minor, m.currency)}"
        f" ({_signed(d.ar_change_minor, m.currency)} vs last week), "
        f"{LABELS['dso']} {format_figure('dso', m.dso)}"
    )


def digest_blocks(d: Digest) -> list[Block]:
    """The channel message."""
    m, cur = d.metrics, d.metrics.currency
    aging = [
        f"`{b:>7}`  {format_money(m.aging_minor[b], cur):>22}  {format_pct(m.aging_pct[b]):>7}"
        for b in BUCKETS
    ]
    unapplied_change = m.unapplied_cash_minor - d.last_week.unapplied_cash_minor
    recovery = (
        f"{_figure(m, 'dunning_recovery_rate_pct')} "
        f"({m.recovered_invoices} of {m.failed_attempt_invoices} invoices with a failed payment "
        f"in the last {m.period_days} days are paid)"
    )
    lines_targets = [target_line(t) for t in d.targets]
    lines_targets.append(
        f"{_figure(m, 'best_possible_dso')} · "
        f"*{LABELS['unapplied_cash']}* {format_money(m.unapplied_cash_minor, cur)} "
        f"({_signed(unapplied_change, cur)} vs last week) · {recovery}"
    )
    blocks: list[Block] = [
        header(f"AR digest · week ending {d.as_of}"),
        *sections(
            [
                f"*{LABELS['ar_total']}* {format_money(m.ar_total_minor, cur)} "
                f"({_signed(d.ar_change_minor, cur)} vs {d.last_week.as_of})",
                "*Aging*",
                *aging,
            ]
        ),
        *sections(lines_targets),
        *sections(look_ahead_lines(d.looking_ahead)),
        context(
            f"{escape(d.company)} · as of end of {d.as_of} · metrics over {m.period_days} days · "
            "details, charts and the CSV are in the thread"
        ),
    ]
    return fit(blocks)


def detail_blocks(d: Digest) -> list[Block]:
    """The thread reply: the lists behind the summary, each cut to a readable length."""
    cur = d.top_overdue.currency
    overdue = [
        f"{i}. {escape(a.name)}: {format_money(a.overdue_minor, cur)}, oldest "
        f"{a.oldest_days_past_due} days past due ({a.invoice_count} invoices)"
        for i, a in enumerate(d.top_overdue.accounts, 1)
    ] or ["Nothing overdue."]
    disputes = [
        f"{r.label}: {r.count}"
        + (
            " (" + ", ".join(format_money(v, c) for c, v in sorted(r.amounts.items())) + ")"
            if r.amounts
            else ""
        )
        for r in d.disputes_by_age
    ]
    risky = [
        f"• {escape(a.name)} (score {a.score}, balance {format_money(a.balance_minor, a.currency)}"
        f"): {escape('; '.join(a.reasons))}"
        for a in d.at_risk.accounts
    ] or ["No account at high risk."]
    if d.at_risk.more_accounts:
        risky.append(f"_… and {d.at_risk.more_accounts} more at high risk_")
    act = d.activity
    did = [
        f"Reminders drafted: {act.get('proposed_dunning_email', 0)} · emails sent: "
        f"{act.get('emails_sent', 0)} · write-offs proposed: {act.get('proposed_write_off', 0)}, "
        f"done: {act.get('write_offs_done', 0)} · rejected: {act.get('rejected', 0)}"
    ]
    blocks: list[Block] = [
        *sections([f"*Top {len(d.top_overdue.accounts)} overdue accounts*", *overdue]),
        *sections(
            [
                f"*Open disputes by age* ({len(d.disputes)} open; target: resolved within "
                f"{d.target_dispute_hours} hours)",
                *disputes,
            ]
        ),
        *sections(["*At-risk accounts (high)*", *risky]),
        *sections([f"*What I did {d.week_start} – {d.as_of}*", *did]),
    ]
    return fit(blocks)


def digest_csv(d: Digest) -> bytes:
    """Every figure of the digest, one row each, so a controller can check and re-use it."""
    rows: list[Sequence[Cell]] = []
    w = rows.append
    w(["section", "item", "value", "currency"])
    m = d.metrics
    w(["ar", "as_of", m.as_of.isoformat(), ""])
    w(["ar", "ar_total", format_major(m.ar_total_minor, m.currency), m.currency])
    w(["ar", "ar_change_vs_last_week", format_major(d.ar_change_minor, m.currency), m.currency])
    for b in BUCKETS:
        w(["aging", b, format_major(m.aging_minor[b], m.currency), m.currency])
    for name in (
        "dso",
        "best_possible_dso",
        "average_days_delinquent",
        "cei_pct",
        "bad_debt_pct",
        "dunning_recovery_rate_pct",
    ):
        value = round_ratio(getattr(m, name))
        w(["metrics", name, "" if value is None else str(value), ""])
    w(["metrics", "unapplied_cash", format_major(m.unapplied_cash_minor, m.currency), m.currency])
    for p in d.trend:
        for name in ("dso", "best_possible_dso", "average_days_delinquent"):
            value = round_ratio(getattr(p, name))
            w([f"trend {p.as_of}", name, "" if value is None else str(value), ""])
    for a in d.top_overdue.accounts:
        w(
            [
                "top_overdue",
                a.name,
                format_major(a.overdue_minor, d.top_overdue.currency),
                d.top_overdue.currency,
            ]
        )
    for r in d.disputes_by_age:
        w(["disputes_by_age", r.label, r.count, ""])
    for risky in d.at_risk.accounts:
        w(["at_risk", risky.name, risky.score, ""])
    for key, n in sorted(d.activity.items()):
        w(["activity", key, n, ""])
    rows += look_ahead_rows(d.looking_ahead)
    return csv_bytes(rows)
