"""`arbot report`: the AR metrics for an as-of date, as a table or as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from pydantic import ValidationError

from tools.buckets import BUCKETS
from tools.cuts import CUTS, CutInput, CutReport, cut_json, cut_report
from tools.deps import ToolDeps, connect
from tools.format import LABELS, format_figure, format_pct, plural
from tools.metrics import ArMetrics, MetricsError, MetricsInput
from tools.money import format_money
from tools.report import ar_report, report_json
from tools.settings import Settings, load_settings
from tools.targets import TargetCheck, target_checks


def register(sub: Any) -> None:
    parser = sub.add_parser("report", help="AR, aging, DSO, CEI and the other metrics")
    add_report_arguments(parser)
    add_by_argument(parser)
    parser.set_defaults(run=run)


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="report as of the end of this day (default: today)",
    )
    parser.add_argument(
        "--period-days",
        type=int,
        metavar="N",
        help="look-back window in days (default: ARBOT_PERIOD_DAYS, 90)",
    )
    parser.add_argument(
        "--currency", metavar="CUR", help="report this currency alone instead of converting all"
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")


def add_by_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--by",
        choices=CUTS,
        help="one report per customer segment, payment method, currency or account owner",
    )


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    return print_report(connect(settings), args)


def print_report(deps: ToolDeps, args: argparse.Namespace) -> int:
    try:
        request = MetricsInput(
            as_of=args.as_of,
            period_days=args.period_days or deps.settings.period_days,
            currency=args.currency,
        )
        if getattr(args, "by", None):
            if request.currency is not None:
                print(
                    "arbot report: --by reports every currency converted; drop --currency",
                    file=sys.stderr,
                )
                return 2
            cut = CutInput(by=args.by, as_of=request.as_of, period_days=request.period_days)
            return _print_cut(cut_report(deps, cut), args.json)
        metrics = ar_report(deps, request)
    except ValidationError as exc:
        for err in exc.errors():
            option = "-".join(map(str, err["loc"])).replace("_", "-")
            print(f"arbot report: --{option}: {err['msg']}", file=sys.stderr)
        return 2
    except MetricsError as exc:
        print(f"arbot report: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report_json(metrics), indent=2))
    else:
        print(report_table(metrics, deps.settings))
    return 0


def _print_cut(r: CutReport, as_json: bool) -> int:
    print(json.dumps(cut_json(r), indent=2) if as_json else cut_table(r))
    return 0


def cut_table(r: CutReport) -> str:
    """One line per group: the figures a controller compares groups on."""
    cur = r.total.currency
    head = f"  {r.by:<24}{'AR':>18}{'current':>10}{'DSO':>14}{'ADD':>14}{'CEI':>10}"
    lines = [f"AR report by {r.by} as of {r.total.as_of} ({cur}, {r.total.period_days}-day window)"]
    lines.append(head)
    for name, m in [*r.groups.items(), ("total", r.total)]:
        lines.append(
            f"  {name[:24]:<24}{format_money(m.ar_total_minor, cur):>18}"
            f"{format_pct(m.aging_pct['current']):>10}{format_figure('dso', m.dso):>14}"
            f"{format_figure('average_days_delinquent', m.average_days_delinquent):>14}"
            f"{format_pct(m.cei_pct):>10}"
        )
    return "\n".join(lines)


def _vs(check: TargetCheck) -> str:
    if check.met is None:
        return ""
    op = ">" if check.higher_is_better else "<"
    return f"  {'ok ' if check.met else 'off'} target {op} {check.target}"


def report_table(m: ArMetrics, s: Settings) -> str:
    cur = m.currency
    vs = {check.metric: _vs(check) for check in target_checks(s, m)}

    def row(label: str, value: str) -> str:
        return f"  {label:<34}{value:>22}"

    def ratio(field: str) -> str:
        return row(LABELS[field], format_figure(field, getattr(m, field))) + vs.get(field, "")

    lines = [
        f"AR report as of {m.as_of} ({cur}, {m.period_days}-day window)",
        *([f"  {m.source}"] if m.source else []),
        row(LABELS["ar_total"], format_money(m.ar_total_minor, cur)),
        "  Aging",
        *(
            f"    {b:<32}{format_money(m.aging_minor[b], cur):>22}  {format_pct(m.aging_pct[b]):>8}"
            for b in BUCKETS
        ),
        row(LABELS["credit_sales"], format_money(m.credit_sales_minor, cur)),
        row(LABELS["unapplied_cash"], format_money(m.unapplied_cash_minor, cur)),
        row(LABELS["allowance"], format_money(m.allowance_minor, cur)),
        *(ratio(f) for f in ("dso", "best_possible_dso", "average_days_delinquent", "cei_pct")),
        *(ratio(f) for f in ("ar_turnover", "bad_debt_pct", "weighted_days_past_due")),
        ratio("dunning_recovery_rate_pct")
        + f"  ({m.recovered_invoices} of {plural(m.failed_attempt_invoices, 'invoice')})",
    ]
    return "\n".join(lines)
