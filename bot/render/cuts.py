"""The report cut by group: one line per segment (payment method, currency, owner), or one
segment's report when the question named it ("aging for enterprise")."""

from __future__ import annotations

from bot.blocks.common import Rendered
from bot.blocks.ids import RowsRequest
from bot.intents import Intent
from bot.render.layout import Line, Mention, Strong, compose
from bot.render.metrics import TITLES, metric_facts
from tools.buckets import BUCKETS
from tools.cuts import NONE_LABEL, CutReport
from tools.format import format_figure, format_pct
from tools.metrics import ArMetrics
from tools.money import format_money
from tools.targets import TargetCheck

BY_WORDS = {"segment": "segment", "method": "payment method", "currency": "currency"}


def _vs(check: TargetCheck) -> str:
    if check.met is None:
        return ""
    op = ">" if check.higher_is_better else "<"
    return f" ({'on' if check.met else 'off'} target {op} {check.target})"


def _name(r: CutReport, name: str) -> str:
    """An owner is a Slack user: mentioned, not printed as an id."""
    return Mention(name) if r.by == "owner" and name != NONE_LABEL["owner"] else Strong(name)


def _group_line(r: CutReport, name: str, m: ArMetrics, topic: str) -> Line:
    cur = m.currency
    ar = f"AR {format_money(m.ar_total_minor, cur)}"
    if topic == "aging":
        parts = [f"{b} {format_pct(m.aging_pct[b])}" for b in BUCKETS]
        return (_name(r, name), f": {ar} · " + " · ".join(parts))
    dso = f"DSO {format_figure('dso', m.dso)}"
    current = f"{format_pct(m.aging_pct['current'])} current"
    if name in r.checks:
        check_dso, check_current = r.checks[name]
        dso, current = dso + _vs(check_dso), current + _vs(check_current)
    return (_name(r, name), f": {dso} · {current} · {ar}")


def cut_view(r: CutReport, intent: Intent | None) -> Rendered:
    topic = intent.topic if intent else "all"
    as_of, cur = r.total.as_of, r.total.currency
    rows = RowsRequest(kind="open_invoices", as_of=as_of)
    group = intent.group if intent else None
    if group is not None:
        found = r.groups.get(group) or next(
            (m for k, m in r.groups.items() if k.lower() == group.lower()), None
        )
        if found is None:
            return compose(title=f"No open AR in the {group} {BY_WORDS.get(r.by, r.by)}")
        return compose(
            title=f"{TITLES.get(topic, 'AR report')} for {group} as of {as_of} ({cur})",
            lines=metric_facts(found, topic),
            note=(f"As of end of {as_of} · {found.period_days}-day window · {r.by} {group}",),
            rows=rows,
        )
    lines = [_group_line(r, name, m, topic) for name, m in r.groups.items()]
    lines.append(_group_line(r, "all", r.total, topic))
    return compose(
        title=f"{TITLES.get(topic, 'AR report')} by {BY_WORDS.get(r.by, 'owner')} as of {as_of}",
        lines=lines,
        note=(
            f"Each {r.by}'s ratios are its own (its AR over its credit sales, "
            f"{r.total.period_days}-day window); amounts add up to the total ({cur}).",
        ),
        rows=rows,
    )
