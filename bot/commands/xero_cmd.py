"""`arbot xero sync`: pull Xero's receivables into the ledger."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.commands.connect_flow import HELP, run_consent
from bot.commands.quickbooks_cmd import counted_line, summary
from tools.books_connect import xero_consent, xero_finish
from tools.deps import connect
from tools.settings import load_settings
from tools.stripe_sync import SyncInterrupted
from tools.xero_sync import run_xero_sync


def register(sub: Any) -> None:
    parser = sub.add_parser("xero", help="sync the ledger with Xero")
    actions = parser.add_subparsers(dest="xero_command", required=True, metavar="ACTION")
    sync = actions.add_parser(
        "sync",
        help="copy contacts, sales invoices, payments, credit notes, overpayments and "
        "prepayments changed since the last run",
        description="Needs ARBOT_XERO_CLIENT_ID, ARBOT_XERO_CLIENT_SECRET, ARBOT_XERO_TENANT_ID, "
        "ARBOT_TOKEN_KEY and, the first time, ARBOT_XERO_REFRESH_TOKEN (later runs use the "
        "rotated token stored encrypted in the database). Rows are kept as source 'xero'. Draft "
        "and submitted invoices are not receivables yet and are left out until approved. Safe "
        "to run again or after an interruption: it resumes after the last saved page and "
        "counts nothing twice.",
    )
    sync.add_argument(
        "--full", action="store_true", help="read everything again instead of only changes"
    )
    sync.set_defaults(run=run)
    link = actions.add_parser(
        "connect", help="connect arbot to Xero (OAuth consent in a browser)", description=HELP
    )
    link.set_defaults(run=run_connect)


def run_connect(_args: argparse.Namespace) -> int:
    return run_consent("Xero", xero_consent, xero_finish, "xero_tenant_id")


def run(args: argparse.Namespace) -> int:
    deps = connect(load_settings())
    try:
        stats = run_xero_sync(deps, full=args.full)
    except SyncInterrupted as exc:
        print(f"arbot xero sync: {exc}", file=sys.stderr)
        return 1
    print(summary(stats, "Xero"))
    print(counted_line(deps))
    return 1 if stats.problems else 0
