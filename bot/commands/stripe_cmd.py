"""`arbot stripe sync`: pull Stripe billing into the ledger (backfill, then events)."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from tools.deps import connect
from tools.settings import load_settings
from tools.stripe_sync import SyncInterrupted, SyncStats, run_stripe_sync


def register(sub: Any) -> None:
    parser = sub.add_parser("stripe", help="sync the ledger with Stripe")
    actions = parser.add_subparsers(dest="stripe_command", required=True, metavar="ACTION")
    sync = actions.add_parser(
        "sync",
        help="backfill from Stripe (resuming if interrupted), then apply new events",
        description="Needs STRIPE_API_KEY (ARBOT_STRIPE_API_BASE points elsewhere for tests). "
        "The first run copies customers, invoices, payments, credit notes, refunds and "
        "disputes; later runs only read events since the last one. Safe to run again at any "
        "time: nothing is counted twice.",
    )
    sync.add_argument(
        "--full", action="store_true", help="walk every list again instead of only new events"
    )
    sync.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    logging.getLogger("stripe").setLevel(logging.WARNING)  # it logs every request at INFO
    deps = connect(load_settings())
    try:
        stats = run_stripe_sync(deps, full=args.full)
    except SyncInterrupted as exc:
        print(f"arbot stripe sync: {exc}", file=sys.stderr)
        return 1
    print(summary(stats))
    return 0


def summary(stats: SyncStats) -> str:
    parts = [f"{n} {kind.replace('_', ' ')}s" for kind, n in stats.objects.items()]
    lines = [
        "read from Stripe: "
        + (", ".join(parts) if parts else "nothing new (backfill already complete)"),
        f"events: {stats.events_applied} applied, {stats.events_skipped} already seen",
    ]
    if stats.retries:
        lines.append(f"retries after rate limits or errors: {stats.retries}")
    return "\n".join(lines)
