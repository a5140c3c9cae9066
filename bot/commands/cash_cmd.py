"""`arbot cash match` and `arbot cash apply`: bank credits to open invoices."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from slack_sdk import WebClient

from tools.action_model import cli_proposer
from tools.cash_apply import CashRefused, apply, leave
from tools.cash_match import Allocation
from tools.cash_suggest import CashMatchInput, cash_match
from tools.clock import AsOfError
from tools.deps import connect
from tools.settings import Settings, load_settings


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "cash",
        help="match bank credits to open invoices and apply them",
        description="Cash application: suggestions for imported bank credits, and applying them.",
    )
    cash = parser.add_subparsers(dest="cash_command", required=True, metavar="SUBCOMMAND")
    match = cash.add_parser(
        "match",
        help="suggest invoices for every unapplied bank credit",
        description="For every bank credit booked on or before the as-of date: the best "
        "suggestion (customer, invoices, amounts) with a confidence in [0, 1] and its reasons.",
    )
    match.add_argument("--as-of", metavar="YYYY-MM-DD", help="end-of-day date (default today)")
    match.add_argument("--json", action="store_true", help="print JSON")
    match.set_defaults(run=run_match)
    app = cash.add_parser(
        "apply",
        help="apply one bank credit",
        description="Apply bank line ID (the bank's id as `cash match` shows it, else arbot's "
        "id) as suggested, or to the invoices given with --customer and --invoice. The "
        "payments are dated the booking date; what is left stays unapplied cash on the "
        "customer. Only a finance user or an approver may apply: the OS user running arbot "
        "must be mapped to one in ARBOT_CLI_SLACK_USERS (OSUSER=SLACK_USER_ID), else nothing "
        "is written and the exit status is 2. Recorded as applied by the OS user and that "
        "Slack user. A line left unapplied can be applied later the same way.",
    )
    app.add_argument("--txn", required=True, metavar="ID")
    app.add_argument(
        "--account", metavar="ACCOUNT", help="the bank account, when several used the line's id"
    )
    app.add_argument("--customer", metavar="CUSTOMER", help="customer import id or name")
    app.add_argument(
        "--invoice",
        action="append",
        default=[],
        metavar="INVOICE[=AMOUNT]",
        help="an invoice (import id or number) and the amount to apply, default its open amount",
    )
    app.add_argument("--leave", action="store_true", help="leave the line unapplied")
    app.set_defaults(run=run_apply)


def run_match(args: argparse.Namespace) -> int:
    deps = connect(load_settings())
    try:
        result = cash_match(deps, CashMatchInput.model_validate({"as_of": args.as_of}))
    except (AsOfError, ValueError) as exc:
        print(f"arbot: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.model_dump(mode="json")))
        return 0
    from bot.render.cash import match_text

    print(match_text(result))
    return 0


def _refusal(settings: Settings, who: str) -> str | None:
    """Why this OS user may not apply bank lines, or None: the rule for a click on a card
    (a finance user or an approver), for the Slack user ARBOT_CLI_SLACK_USERS maps them to."""
    from bot.access import Access
    from bot.caller import cli_caller
    from bot.slack_client import make_web_client

    client = make_web_client(settings) if settings.slack_bot_token else WebClient()
    person = cli_caller(settings, Access(settings, client))
    os_user = who.removeprefix("cli:")
    if not person.user:
        return (
            f"OS user {os_user} is not mapped to a Slack user: only finance users and approvers "
            f"may apply bank lines; add {os_user}=SLACK_USER_ID to ARBOT_CLI_SLACK_USERS. "
            "Nothing was written."
        )
    if not person.on_team:
        return (
            f"OS user {os_user} is Slack user {person.user}, who is neither a finance user "
            "(ARBOT_FINANCE_USERS) nor an approver (ARBOT_APPROVERS): only they may apply bank "
            "lines. Nothing was written."
        )
    return None


def run_apply(args: argparse.Namespace) -> int:
    settings = load_settings()
    who = cli_proposer()
    refused = _refusal(settings, who)
    if refused:
        print(f"arbot: {refused}", file=sys.stderr)
        return 2
    slack_user = settings.cli_slack_user(who.removeprefix("cli:"))
    deps = connect(settings)
    from tools.cash_choose import resolve_choice, resolve_txn

    try:
        txn_id = resolve_txn(deps, args.txn, args.account)
        if args.leave:
            print(leave(deps, txn_id, who, slack_user=slack_user))
            return 0
        allocations: list[Allocation] | None = None
        customer_id = None
        if args.customer or args.invoice:
            customer_id, allocations = resolve_choice(deps, txn_id, args.customer, args.invoice)
        done = apply(
            deps,
            txn_id,
            who,
            allocations=allocations,
            customer_id=customer_id,
            slack_user=slack_user,
        )
    except CashRefused as exc:
        print(f"arbot: {exc}", file=sys.stderr)
        return 2
    print(done.message)
    return 0
