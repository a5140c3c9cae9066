"""`arbot demo`: a realistic seeded ledger to try arbot on, then the report."""

from __future__ import annotations

import argparse
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from bot.commands.import_cmd import print_errors
from bot.commands.report_cmd import print_report
from db.demo import write_demo_csvs
from tools.clock import today
from tools.csv_import import ImportErrors, import_directory
from tools.deps import connect
from tools.ledger_record import relink
from tools.settings import load_settings


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "demo",
        help="build a demo ledger (or its CSVs) and print the report",
        description="Generates customers, invoices, payments, credit notes, disputes and fx "
        "rates, imports them into ARBOT_DATABASE_URL (default: arbot.db here) and prints the "
        "report. Running it again changes nothing.",
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=150,
        metavar="N",
        help="number of customers (about 14 invoices each; default 150)",
    )
    parser.add_argument(
        "--out", type=Path, metavar="DIR", help="only write the import CSVs into DIR"
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the demo's today (default: today)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    as_of = args.as_of or today(settings.tz)
    if args.out:
        counts = write_demo_csvs(args.out, customers=args.customers, as_of=as_of, seed=args.seed)
        print(", ".join(f"{n} {name}" for name, n in counts.items()), f"written to {args.out}")
        return 0
    deps = connect(settings)
    with tempfile.TemporaryDirectory() as tmp:
        write_demo_csvs(Path(tmp), customers=args.customers, as_of=as_of, seed=args.seed)
        try:
            summary = import_directory(deps.engine, Path(tmp), tz=settings.tz)
        except ImportErrors as exc:
            print_errors(exc)
            return 2
    relink(deps.engine, settings)
    for line in summary.lines():
        print(line)
    print()
    report_args = argparse.Namespace(as_of=as_of, period_days=None, currency=None, json=False)
    return print_report(deps, report_args)
