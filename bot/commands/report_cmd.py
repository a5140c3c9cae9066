"""`arbot report`: the AR metrics for an as-of date, as a table or as JSON."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from pydantic import ValidationError

from tools.buckets import BUCKETS
from tools.deps import ToolDeps, connect
from tools.format import format_ratio
from tools.metrics import ArMetrics, MetricsError, MetricsInput
from tools.money import format_money
from tools.report import ar_report, report_json
from tools.settings import Settings, load_settings
from tools.targets import TargetCheck, target_checks


def register(sub: Any) -> None:
    parser = sub.add_parser("report", help="AR, aging, DSO, CEI and the other metrics")
    add_report_arguments(parser)
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
        metrics = ar_report(deps, request)
    except ValidationError as exc:
        for err in exc.errors():
            print(
                f"arbot report: --{'-'.join(map(str, err['loc']))}: {err['msg']}", file=sys.stderr
            )
        return 2
    except MetricsError as exc:
        print(f"arbot report: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report_json(metrics), indent=2))
    else:
        print(report_table(metrics, deps.settings))
    return 0


def _vs(check: TargetCheck) -> str:
    if check.met is None:
        return ""
    op = ">" if check.higher_is_better else "<"
    return f"  {'ok ' if check.met else 'off'} target {op} {check.target}"


def report_table(m: ArMetrics, s: Settings) -> str:
    cur = m.currency
    vs = {check.name: _vs(check) for check in target_checks(s, m)}
    lines = [
        f"AR report as of {m.as_of} ({cur}, {m.period_days}-day window)",
        f"  AR total                    {format_money(m.ar_total_minor, cur):>22}",
        "  Aging",
    ]
    for b in BUCKETS:
        lines.append(
            f"    {b:<10}                {format_money(m.aging_minor[b], cur):>22}"
            f"  {format_ratio(m.aging_pct[b], '%'):>8}"
        )
    lines += [
        f"  Credit sales in window      {format_money(m.credit_sales_minor, cur):>22}",
        f"  Unapplied cash              {format_money(m.unapplied_cash_minor, cur):>22}",
        f"  Allowance for doubtful      {format_money(m.allowance_minor, cur):>22}",
        f"  DSO                         {format_ratio(m.dso, ' days'):>22}"
        + vs["DSO"],
        f"  Best possible DSO           {format_ratio(m.best_possible_dso, ' days'):>22}",
        f"  Average days delinquent     {format_ratio(m.average_days_delinquent, ' days'):>22}"
        + vs["Avg days delinquent"],
        f"  CEI                         {format_ratio(m.cei_pct, '%'):>22}"
        + vs["CEI"],
        f"  AR turnover (annualised)    {format_ratio(m.ar_turnover, 'x'):>22}",
        f"  Bad debt                    {format_ratio(m.bad_debt_pct, '%'):>22}"
        + vs["Bad debt"],
        f"  Weighted days past due      {format_ratio(m.weighted_days_past_due, ' days'):>22}",
        f"  Dunning recovery rate       {format_ratio(m.dunning_recovery_rate_pct, '%'):>22}"
        f"  ({m.recovered_invoices} of {m.failed_attempt_invoices} invoices)",
    ]
    return "\n".join(lines)
