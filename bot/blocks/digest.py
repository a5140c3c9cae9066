"""The Monday digest as Slack blocks and a CSV: pure functions of `tools.digest.Digest`.

The channel message is the summary a controller reads in ten seconds (AR and its change,
aging, the metrics against their targets: met or not, an arrow for which way each number
moved and a word for whether that is better or worse); the thread holds the
details (top overdue, disputes by age, at-risk accounts, what the bot did) and the CSV of
every number. Each stays under Slack's 50 blocks and 3,000 characters per section.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import Block

from bot.blocks.common import context, escape, fit, header, plain, sections
from bot.blocks.look_ahead import look_ahead_lines, look_ahead_rows
from bot.blocks.money import risk_money_text
from bot.render.cash import cash_week_lines
from tools.buckets import BUCKETS
from tools.csv_export import Cell, csv_bytes
from tools.digest import Digest
from tools.format import LABELS, format_figure, format_pct, format_ratio, plural, round_ratio
from tools.metrics import ArMetrics
from tools.money import format_major, format_money
from tools.risk_money import MoneyAtRisk
from tools.targets import TargetCheck

ARROWS = {"up": ":arrow_up_small:", "down": ":arrow_down_small:"}
STATUS = {True: ":white_check_mark: on target", False: ":x: off target"}


def change_words(minor: int, currency: str) -> str:
    """ "down USD 93,040.17", "up USD 1.00", "unchanged": a money move said as English."""
    if minor == 0:
        return "unchanged"
    return f"{'up' if minor > 0 else 'down'} {format_money(abs(minor), currency)}"


def _money_change(minor: int, currency: str) -> str:
    """The same, with the arrow of the number's direction (no better/worse: AR falling can be
    collections or lost sales)."""
    mark = ARROWS["up" if minor > 0 else "down"] + " " if minor else ""
    return mark + change_words(minor, currency)


def _figure(m: ArMetrics, field: str) -> str:
    return f"*{LABELS[field]}* {format_figure(field, getattr(m, field))}"


def _change_unit(unit: str) -> str:
    """A percentage moves by points: 74.73% from 72.10% is up 2.63 pts, not 2.63%."""
    return " pts" if unit == "%" else unit


def target_line(t: TargetCheck) -> str:
    """`*DSO* 65.81 days (target < 45 days) :x: off target · :arrow_down_small: down 2.86 days
    vs last week, better`: the arrow is the number's direction, the word says if that is good."""
    op = ">" if t.higher_is_better else "<"
    line = f"*{t.name}* {format_ratio(t.value, t.unit)} (target {op} {t.target}{t.unit})"
    if t.met is not None:
        line += f" {STATUS[t.met]}"
    if t.change is None:
        return line
    if t.moved == "unchanged":
        return line + " · unchanged vs last week"
    amount = format_ratio(abs(t.change), _change_unit(t.unit))
    return line + f" · {ARROWS[t.moved]} {t.moved} {amount} vs last week, {t.direction}"


def summary_text(d: Digest) -> str:
    m = d.metrics
    return plain(
        f"AR digest for the week ending {d.as_of}: AR {format_money(m.ar_total_minor, m.currency)}"
        f" ({change_words(d.ar_change_minor, m.currency)} vs last week), "
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
        f"(paid: {m.recovered_invoices} of {plural(m.failed_attempt_invoices, 'invoice')} "
        f"with a failed payment in the last {m.period_days} days)"
    )
    lines_targets = [target_line(t) for t in d.targets]
    lines_targets.append(
        f"{_figure(m, 'best_possible_dso')} · "
        f"*{LABELS['unapplied_cash']}* {format_money(m.unapplied_cash_minor, cur)} "
        f"({_money_change(unapplied_change, cur)} vs last week) · {recovery}"
    )
    lines_targets.extend(cash_week_lines(d.cash))
    blocks: list[Block] = [
        header(f"AR digest · week ending {d.as_of}"),
        *sections(
            [
                f"*{LABELS['ar_total']}* {format_money(m.ar_total_minor, cur)} "
                f"({_money_change(d.ar_change_minor, cur)} vs {d.last_week.as_of})",
                *([m.source] if m.source else []),
                "*Aging*",
                *aging,
            ]
        ),
        *sections(lines_targets),
        *sections([risk_summary(d.at_risk)]),
        *sections(look_ahead_lines(d.looking_ahead)),
        context(
            f"{escape(d.company)} · as of end of {d.as_of} · metrics over {m.period_days} days · "
            "details, charts and the CSV are in the thread"
        ),
    ]
    return fit(blocks)


def _overdue_lines(d: Digest) -> list[str]:
    cur = d.top_overdue.currency
    return [
        f"{i}. {escape(a.name)}: {format_money(a.overdue_minor, cur)} overdue, oldest "
        f"{plural(a.oldest_days_past_due, 'day')} past due ({plural(a.invoice_count, 'invoice')})"
        for i, a in enumerate(d.top_overdue.accounts, 1)
    ] or ["Nothing overdue."]


def _dispute_lines(d: Digest) -> list[str]:
    """One line per age, in the reporting currency (each currency in the CSV)."""
    return [
        f"{r.label}: "
        + (
            f"{plural(r.count, 'dispute')}, {format_money(r.total_minor, r.currency)}"
            if r.count
            else "none"
        )
        for r in d.disputes_by_age
    ]


def risk_summary(r: MoneyAtRisk) -> str:
    """The channel's one line on risk: the total, and whom to chase first."""
    if not r.account_count:
        return f"*At risk* nothing: no account at {r.min_level} risk"
    line = (
        f"*At risk* {format_money(r.total_at_risk_minor, r.currency)} in "
        f"{plural(r.account_count, f'{r.min_level}-risk account')}"
    )
    top = r.top
    if top is not None:  # over every account: a small one can hold more than a listed one
        listed = any(a.customer_pk == top.customer_pk for a in r.accounts)
        where = (
            "details in the thread"
            if listed
            else f"balance under {format_money(r.min_balance_minor, r.currency)}, not listed"
        )
        line += (
            f", most in {escape(top.name)} ({format_money(top.at_risk_minor, r.currency)}; {where})"
        )
    return line


def _risk_lines(r: MoneyAtRisk) -> list[str]:
    """The total first, then the accounts by money at risk, then the small ones in a line."""
    if not r.account_count:
        return [f"*At-risk accounts ({r.min_level})*", f"No account at {r.min_level} risk."]
    lines = [
        f"*At-risk accounts ({r.min_level})*: {format_money(r.total_at_risk_minor, r.currency)} "
        f"at risk in {plural(r.account_count, 'account')} "
        "(expected loss: open balance × risk score as a %)"
    ]
    lines += [
        f"• {escape(a.name)}: {risk_money_text(a)}: {escape('; '.join(a.reasons))}"
        for a in r.accounts
    ]
    under = format_money(r.min_balance_minor, r.currency)
    if r.more_accounts:
        lines.append(f"_… and {plural(r.more_accounts, 'more account')} with {under} or more_")
    if r.small_count:
        lines.append(
            f"{plural(r.small_count, 'smaller account')} "
            f"({'balance' if r.small_count == 1 else 'each with a balance'} under {under}): "
            f"{format_money(r.small_at_risk_minor, r.currency)} at risk, not listed"
        )
    return lines


def detail_blocks(d: Digest) -> list[Block]:
    """The thread reply: the lists behind the summary, each cut to a readable length."""
    act = d.activity
    did = [
        f"Reminders drafted: {act.get('proposed_dunning_email', 0)} · emails sent: "
        f"{act.get('emails_sent', 0)} · write-offs proposed: {act.get('proposed_write_off', 0)}, "
        f"done: {act.get('write_offs_done', 0)} · rejected: {act.get('rejected', 0)}"
    ]
    blocks: list[Block] = [
        *sections([f"*Top {len(d.top_overdue.accounts)} overdue accounts*", *_overdue_lines(d)]),
        *sections(
            [
                f"*Open disputes by age* ({len(d.disputes)} open; target: resolved within "
                f"{d.target_dispute_hours} hours)",
                *_dispute_lines(d),
            ]
        ),
        *sections(_risk_lines(d.at_risk)),
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
    w(["ar", "source", m.source, ""])
    w(["ar", "ar_total", format_major(m.ar_total_minor, m.currency), m.currency])
    w(["ar", "ar_change_vs_last_week", format_major(d.ar_change_minor, m.currency), m.currency])
    for b in BUCKETS:
        w(["aging", b, format_major(m.aging_minor[b], m.currency), m.currency])
    rows += _own_currency_rows(d)
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
        for cur, minor in a.overdue_by_currency.items():
            w(["top_overdue_by_currency", a.name, format_major(minor, cur), cur])
    rows += _dispute_rows(d)
    rows += _risk_rows(d.at_risk)
    for key, n in sorted(d.activity.items()):
        w(["activity", key, n, ""])
    rows += look_ahead_rows(d.looking_ahead)
    return csv_bytes(rows)


def _own_currency_rows(d: Digest) -> list[Sequence[Cell]]:
    """AR and each aging bucket per currency, before conversion: what the converted figures
    are made of, so a controller can redo the conversion."""
    totals: dict[str, int] = {}
    aging: list[Sequence[Cell]] = []
    for b in BUCKETS:
        for cur, minor in sorted(d.aging_by_currency.get(b, {}).items()):
            totals[cur] = totals.get(cur, 0) + minor
            if minor:
                aging.append(["aging_by_currency", b, format_major(minor, cur), cur])
    ar: list[Sequence[Cell]] = [
        ["ar_by_currency", "ar_total", format_major(minor, cur), cur]
        for cur, minor in sorted(totals.items())
        if minor
    ]
    return ar + aging


def _dispute_rows(d: Digest) -> list[Sequence[Cell]]:
    rows: list[Sequence[Cell]] = []
    for r in d.disputes_by_age:
        rows.append(["disputes_by_age", r.label, r.count, ""])
        rows.append(
            ["disputes_by_age_amount", r.label, format_major(r.total_minor, r.currency), r.currency]
        )
        for cur, minor in sorted(r.amounts.items()):
            rows.append(["disputes_by_age_by_currency", r.label, format_major(minor, cur), cur])
    return rows


def _risk_rows(r: MoneyAtRisk) -> list[Sequence[Cell]]:
    """The money at risk in the reporting currency, and each balance in its own currency."""
    cur = r.currency
    rows: list[Sequence[Cell]] = [
        ["at_risk", "total_at_risk", format_major(r.total_at_risk_minor, cur), cur],
        ["at_risk", "accounts", r.account_count, ""],
        ["at_risk", "accounts_under_min_balance", r.small_count, ""],
        ["at_risk", "at_risk_under_min_balance", format_major(r.small_at_risk_minor, cur), cur],
    ]
    for a in r.accounts:
        rows += [
            ["at_risk_amount", a.name, format_major(a.at_risk_minor, cur), cur],
            ["at_risk_score", a.name, a.score, ""],
            ["at_risk_balance", a.name, format_major(a.balance_reporting_minor, cur), cur],
        ]
        rows += [
            ["at_risk_balance_by_currency", a.name, format_major(minor, own), own]
            for own, minor in sorted(a.balance_by_currency.items())
        ]
    return rows
