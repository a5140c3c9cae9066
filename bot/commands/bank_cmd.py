"""`arbot bank import FILE...`: bank statements (camt.053, BAI2, CSV), all or nothing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tools.bank_import import BankImportErrors, import_statements
from tools.cash_apply import Applied, auto_apply
from tools.deps import ToolDeps, connect
from tools.settings import load_settings

MAX_PRINTED_ERRORS = 50
NOT_POSTED = (
    "cards not posted: SLACK_BOT_TOKEN and ARBOT_APPROVALS_CHANNEL are needed to post them; "
    "apply with `arbot cash apply`"
)


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "bank",
        help="import bank statements",
        description="Bank statements whose credits become cash to apply to invoices.",
    )
    bank = parser.add_subparsers(dest="bank_command", required=True, metavar="SUBCOMMAND")
    imp = bank.add_parser(
        "import",
        help="import statement files (camt.053 XML, BAI2, CSV)",
        description="Reads each FILE, telling its format from its content: ISO 20022 "
        "camt.053 XML, BAI2, or CSV with the header "
        "txn_id,account,booked_on,amount,currency,payer_name,reference (amounts in major "
        "units, credits positive). Only credits are kept. Any problem in any file means "
        "nothing is written; problems are printed as FILE:LINE (FILE:element path for XML) "
        "and the exit status is 2. Lines already imported are counted as known and left "
        "alone, so re-importing a statement, or an overlapping one, adds nothing. New lines "
        "at or above ARBOT_CASH_AUTO_APPLY_CONFIDENCE are applied; the rest are posted as "
        "cards to ARBOT_APPROVALS_CHANNEL (grouped per statement) when Slack is set up.",
    )
    imp.add_argument("files", type=Path, nargs="+", metavar="FILE")
    imp.set_defaults(run=run_import)


def run_import(args: argparse.Namespace) -> int:
    deps = connect(load_settings())
    try:
        summary = import_statements(deps, args.files)
    except BankImportErrors as exc:
        for line in exc.errors[:MAX_PRINTED_ERRORS]:
            print(line, file=sys.stderr)
        if len(exc.errors) > MAX_PRINTED_ERRORS:
            print(f"... and {len(exc.errors) - MAX_PRINTED_ERRORS} more", file=sys.stderr)
        print(
            f"bank import refused: {len(exc.errors)} errors, nothing was written", file=sys.stderr
        )
        return 2
    for line in summary.lines():
        print(line)
    s = deps.settings
    auto = _auto_apply(deps, summary.new_ids) if s.cash_auto_apply_confidence is not None else []
    if not summary.new_ids:
        return 0
    if s.slack_bot_token is None or not s.approvals_channel:
        print(NOT_POSTED, file=sys.stderr)
        return 0
    from datetime import UTC, datetime

    from bot.slack_client import make_web_client
    from jobs.cash_cards import post_cash_cards_once

    waiting = [i for i in summary.new_ids if i not in {a.txn_id for a in auto}]
    posted = post_cash_cards_once(deps, waiting, now=datetime.now(UTC), client=make_web_client(s))
    print(f"{len(posted)} line(s) posted as cards to {s.approvals_channel}")
    return 0


def _auto_apply(deps: ToolDeps, new_ids: list[int]) -> list[Applied]:
    """The rule applies lines only for a person who may apply them (a finance user or an
    approver, as for `arbot cash apply`), named in the audit; anyone else's import is kept
    and every line waits for a person."""
    from bot.commands.cash_cmd import _refusal
    from tools.action_model import cli_proposer

    who = cli_proposer()
    refused = _refusal(deps.settings, who)
    if refused:
        reason = refused.removesuffix(" Nothing was written.")
        print(f"arbot: lines imported but none applied automatically: {reason}", file=sys.stderr)
        return []
    slack_user = deps.settings.cli_slack_user(who.removeprefix("cli:"))
    auto = auto_apply(deps, new_ids, on_behalf=who, slack_user=slack_user)
    if auto:
        print(f"{len(auto)} line(s) applied by ARBOT_CASH_AUTO_APPLY_CONFIDENCE")
    return auto
