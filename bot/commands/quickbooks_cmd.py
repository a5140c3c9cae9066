"""`arbot quickbooks sync`: pull QuickBooks Online's receivables into the ledger."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.commands.connect_flow import HELP, run_consent
from tools.books_connect import quickbooks_consent, quickbooks_finish
from tools.books_sync import SyncStats
from tools.deps import ToolDeps, connect
from tools.ledger_record import source_line
from tools.quickbooks_sync import run_quickbooks_sync
from tools.settings import load_settings
from tools.stripe_sync import SyncInterrupted


def register(sub: Any) -> None:
    parser = sub.add_parser("quickbooks", help="sync the ledger with QuickBooks Online")
    actions = parser.add_subparsers(dest="quickbooks_command", required=True, metavar="ACTION")
    sync = actions.add_parser(
        "sync",
        help="copy customers, invoices, payments and credit memos changed since the last run",
        description="Needs ARBOT_QUICKBOOKS_CLIENT_ID, ARBOT_QUICKBOOKS_CLIENT_SECRET, "
        "ARBOT_QUICKBOOKS_REALM_ID, ARBOT_TOKEN_KEY and, the first time, "
        "ARBOT_QUICKBOOKS_REFRESH_TOKEN (later runs use the rotated token stored encrypted in "
        "the database). Rows are kept as source 'quickbooks'. Safe to run again or after an "
        "interruption: it resumes after the last saved page and counts nothing twice.",
    )
    sync.add_argument(
        "--full", action="store_true", help="read everything again instead of only changes"
    )
    sync.set_defaults(run=run)
    link = actions.add_parser(
        "connect", help="connect arbot to QuickBooks (OAuth consent in a browser)", description=HELP
    )
    link.set_defaults(run=run_connect)


def run_connect(_args: argparse.Namespace) -> int:
    return run_consent("QuickBooks", quickbooks_consent, quickbooks_finish, "quickbooks_realm_id")


def run(args: argparse.Namespace) -> int:
    deps = connect(load_settings())
    try:
        stats = run_quickbooks_sync(deps, full=args.full)
    except SyncInterrupted as exc:
        print(f"arbot quickbooks sync: {exc}", file=sys.stderr)
        return 1
    print(summary(stats))
    print(counted_line(deps))
    return 1 if stats.problems else 0


def counted_line(deps: ToolDeps) -> str:
    """What a sync prints last: which source the figures count once the links are derived."""
    with deps.engine.connect() as conn:
        return f"figures count one row per invoice; {source_line(conn)}"


def summary(stats: SyncStats, vendor: str = "QuickBooks") -> str:
    parts = [f"{n} {entity}" for entity, n in stats.objects.items() if n]
    lines = [f"read from {vendor}: " + (", ".join(parts) if parts else "nothing changed")]
    if stats.retries:
        lines.append(f"retries after rate limits or errors: {stats.retries}")
    if stats.problems:
        lines.append(f"left out ({len(stats.problems)}), fix them in {vendor} and sync again:")
        lines += [f"  {p}" for p in stats.problems[:50]]
        if len(stats.problems) > 50:
            lines.append(f"  and {len(stats.problems) - 50} more")
    return "\n".join(lines)
