"""`arbot reconcile`: invoice by invoice, where the connected sources disagree at a date."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tools.csv_export import csv_bytes
from tools.deps import connect
from tools.money import format_money
from tools.reconcile import ReconcileInput, Reconciliation, reconcile
from tools.settings import load_settings

SHOWN = 30  # differences listed on a terminal; all of them go to --csv


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "reconcile",
        help="compare the invoices of every source (Stripe, QuickBooks, Xero, CSV) at a date",
        description="Matches invoices across sources by number, else by customer + total + "
        "issue date, and lists each one missing on a side, with a different amount, or with "
        "a different status (open, paid, void, written off). Changes nothing.",
    )
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="compare as of the end of this day (default: today)",
    )
    parser.add_argument(
        "--source",
        action="append",
        dest="sources",
        metavar="NAME",
        help="a source to compare (repeat); default: every source in the ledger",
    )
    parser.add_argument("--currency", metavar="CUR", help="default: ARBOT_REPORTING_CURRENCY")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="write every difference here")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    deps = connect(load_settings())
    try:
        request = ReconcileInput(as_of=args.as_of, sources=args.sources, currency=args.currency)
    except ValidationError as exc:
        for err in exc.errors():
            option = "-".join(map(str, err["loc"])).replace("_", "-")
            print(f"arbot reconcile: --{option}: {err['msg']}", file=sys.stderr)
        return 2
    result = reconcile(deps, request)
    if args.csv is not None:
        args.csv.write_bytes(csv_bytes(result.csv_rows()))
    print(json.dumps(result.as_json(), indent=2) if args.json else table(result))
    return 0


def table(result: Reconciliation) -> str:
    lines = [f"Reconciliation as of {result.as_of} ({result.currency})", ""]
    width = max([len(s) for s in result.sources] + [6])
    for source in result.sources:
        figure = format_money(result.ar_minor[source], result.currency)
        lines.append(f"  AR in {source:<{width}}  {figure:>22}")
    lines.append("")
    if result.in_balance:
        lines.append("In balance: every invoice agrees across the sources.")
        return "\n".join(lines)
    counts = ", ".join(f"{n} {kind.replace('_', ' ')}" for kind, n in result.totals.items() if n)
    lines.append(f"Differences: {counts}")
    for d in result.differences[:SHOWN]:
        sides = "; ".join(
            f"{s}: missing"
            if side is None
            else f"{s}: {side.status} {format_money(side.open_minor, result.currency)} open "
            f"of {format_money(side.total_minor, result.currency)}"
            for s, side in d.sides.items()
        )
        lines.append(f"  {d.kind.replace('_', ' '):<15} {d.number:<20} {sides}")
    if len(result.differences) > SHOWN:
        lines.append(f"  and {len(result.differences) - SHOWN} more (--csv FILE for all)")
    return "\n".join(lines)
