"""The digest's look-ahead lines: cash forecast, DSO per segment against its targets, why DSO
moved since last week. Plain data in (tools.look_ahead), mrkdwn lines and CSV rows out."""

from __future__ import annotations

from collections.abc import Sequence

from bot.blocks.common import escape
from tools.csv_export import Cell
from tools.format import format_day_change, format_figure, format_pct, round_ratio
from tools.look_ahead import LookAhead
from tools.money import format_major, format_money
from tools.targets import TargetCheck


def _vs(t: TargetCheck) -> str:
    status = "" if t.met is None else (" :white_check_mark:" if t.met else " :x:")
    return f" (target {'>' if t.higher_is_better else '<'} {t.target}){status}"


def forecast_line(la: LookAhead) -> str:
    f, cur = la.forecast, la.forecast.currency
    rest = ", ".join(
        f"{n} days {format_money(v, cur)}" for n, v in f.totals_minor.items() if n != 30
    )
    first = format_money(f.totals_minor.get(30, 0), cur)
    return f"*Cash forecast* {first} expected in the next 30 days" + (f" ({rest})" if rest else "")


MAX_SEGMENTS = 8


def segment_lines(la: LookAhead) -> list[str]:
    lines = []
    groups = list(la.segments.groups.items())
    for name, m in groups[:MAX_SEGMENTS]:
        dso_check, current_check = la.segments.checks.get(name, [None, None])
        dso = f"DSO {format_figure('dso', m.dso)}" + (_vs(dso_check) if dso_check else "")
        current = f"{format_pct(m.aging_pct['current'])} current" + (
            _vs(current_check) if current_check else ""
        )
        lines.append(f"• *{escape(name)}*: {dso} · {current}")
    if len(groups) > MAX_SEGMENTS:
        lines.append(f"_… and {len(groups) - MAX_SEGMENTS} more segments (in the CSV)_")
    return lines


def dso_change_line(la: LookAhead) -> str:
    c = la.dso_change
    shown = c.shown()
    if shown is None:
        return "*DSO since last week* n/a (no credit sales in one of the windows)"
    move, terms, lateness = shown
    movers = [m for m in c.movers if m.customer_id is not None]
    named = ", ".join(f"{escape(m.name)} {format_day_change(m.change)}" for m in movers)
    segments = ", ".join(
        f"{escape(k)} {format_day_change(v)}" for k, v in list(c.by_segment.items())[:3]
    )
    return (
        f"*DSO since last week* {format_day_change(move)}: terms {format_day_change(terms)}, "
        f"lateness {format_day_change(lateness)}"
        + (f"; moved most by {named}" if named else "")
        + (f"; by segment {segments}" if segments else "")
    )


def look_ahead_lines(la: LookAhead | None) -> list[str]:
    """The lines the digest's channel message adds; none without a look-ahead."""
    if la is None:
        return []
    return [forecast_line(la), dso_change_line(la), "*DSO by segment*", *segment_lines(la)]


def look_ahead_rows(la: LookAhead | None) -> list[Sequence[Cell]]:
    """The digest CSV's rows for the same figures."""
    if la is None:
        return []
    cur = la.forecast.currency
    rows: list[Sequence[Cell]] = [
        ["forecast", f"next_{n}_days", format_major(v, cur), cur]
        for n, v in la.forecast.totals_minor.items()
    ]
    for name, m in la.segments.groups.items():
        for field, value in (("dso", m.dso), ("current_pct", m.aging_pct["current"])):
            shown = round_ratio(value)
            rows.append([f"segment {name}", field, "" if shown is None else str(shown), ""])
    split = la.dso_change.shown()
    if split is not None:
        move, terms, lateness = split
        rows += [
            ["dso_change", "move", str(move), ""],
            ["dso_change", "terms", str(terms), ""],
            ["dso_change", "lateness", str(lateness), ""],
        ]
    return rows
