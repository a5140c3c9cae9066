"""`arbot outbox retry [--action ID]`: queue failed write-backs to the books again."""

from __future__ import annotations

import argparse
from typing import Any

from tools.action_model import cli_proposer
from tools.actions import now_utc
from tools.deps import connect
from tools.outbox_books import retry_failed
from tools.settings import load_settings


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "outbox",
        help="the outbox of approved actions: queue failed write-backs to the books again",
    )
    outbox = parser.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    retry = outbox.add_parser(
        "retry",
        help="queue failed write-backs of bank receipts to the books again",
        description="Every applied bank receipt whose write-back to QuickBooks or Xero failed "
        "(e.g. the books were disconnected for longer than the retries last) is queued again "
        "from a first attempt, with the same request id, so a payment the books did record is "
        "answered, not posted twice. The running outbox (`arbot serve`) sends them. Recorded "
        "in the audit log as requeued by the OS user.",
    )
    retry.add_argument("--action", type=int, metavar="ID", help="only this action")
    retry.set_defaults(run=run_retry)


def run_retry(args: argparse.Namespace) -> int:
    deps = connect(load_settings())
    again = retry_failed(deps, by=cli_proposer(), now=now_utc(), action_id=args.action)
    if args.action is not None and not again:
        print(f"arbot: action {args.action} is not a failed write-back to the books")
        return 1
    print(f"{len(again)} write-back(s) queued again" + (f": {again}" if again else ""))
    return 0
