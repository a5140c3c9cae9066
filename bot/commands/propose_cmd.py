"""`arbot propose dunning|write-off`: draft an action and post its card for approval.

The card goes to ARBOT_APPROVALS_CHANNEL. Nothing is sent or written off here: the action
waits for an approver's click, and the outbox (in `arbot serve`) executes it afterwards.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pydantic import ValidationError

from tools.actions import ActionError, ActionInfo
from tools.deps import ToolDeps, connect
from tools.dunning import DunningInput, propose_dunning_email
from tools.money import format_money
from tools.settings import load_settings
from tools.write_off import WriteOffInput, propose_write_off


def register(sub: Any) -> None:
    parser = sub.add_parser("propose", help="propose a dunning email or a write-off for approval")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    dun = kinds.add_parser("dunning", help="draft a reminder email to a customer's AP contact")
    dun.add_argument("--customer", help="customer id, external id or name")
    dun.add_argument("--invoice", help="one invoice (number or id); all overdue ones if omitted")
    dun.add_argument("--tone", help="friendly reminder, firm or final notice (default: by stage)")
    dun.add_argument("--requested-by", required=True, metavar="SLACK_USER")
    dun.set_defaults(run=run)
    wo = kinds.add_parser("write-off", help="propose writing off an invoice")
    wo.add_argument("--invoice", required=True, help="invoice number or id")
    wo.add_argument("--reason", required=True, help="why it cannot be collected")
    wo.add_argument("--requested-by", required=True, metavar="SLACK_USER")
    wo.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return propose(connect(load_settings()), args)


def summary(a: ActionInfo) -> str:
    p = a.payload
    if a.kind == "write_off":
        inv = p["invoice"]
        e = p["effect"]
        return "\n".join(
            [
                f"Proposed write-off #{a.id}: {inv['label']} of {p['customer_name']}, "
                f"{format_money(inv['open_minor'], inv['currency'])}",
                f"  reason: {p['reason']}",
                f"  bad debt {e['bad_debt_pct_before']}% -> {e['bad_debt_pct_after']}%, "
                f"DSO {e['dso_before']} -> {e['dso_after']} days",
                f"  approvals needed: {a.approvals_needed}",
            ]
        )
    return "\n".join(
        [
            f"Proposed reminder #{a.id} to {p['recipient']} ({p['tone']}, {p['drafted_by']})",
            f"Subject: {p['subject']}",
            "",
            p["body"],
        ]
    )


def _post(deps: ToolDeps, a: ActionInfo) -> str | None:
    s = deps.settings
    if s.slack_bot_token is None or not s.approvals_channel:
        return "not posted: set SLACK_BOT_TOKEN and ARBOT_APPROVALS_CHANNEL to post the card"
    from bot.cards import post_card
    from bot.slack_client import make_web_client

    post_card(make_web_client(s), deps, a, channel=s.approvals_channel)
    return None


def propose(deps: ToolDeps, args: argparse.Namespace) -> int:
    try:
        if args.kind == "dunning":
            a = propose_dunning_email(
                deps,
                DunningInput(
                    customer=args.customer,
                    invoice=args.invoice,
                    tone=args.tone,
                    requested_by=args.requested_by,
                ),
            )
        else:
            a = propose_write_off(
                deps,
                WriteOffInput(
                    invoice=args.invoice, reason=args.reason, requested_by=args.requested_by
                ),
            )
    except ValidationError as exc:
        for err in exc.errors():
            where = "-".join(map(str, err["loc"])) or args.kind
            print(f"arbot propose: {where}: {err['msg']}", file=sys.stderr)
        return 2
    except ActionError as exc:
        print(f"arbot propose: {exc}", file=sys.stderr)
        return 1
    print(summary(a))
    problem = _post(deps, a)
    if problem:
        print(f"arbot propose: {problem}", file=sys.stderr)
    else:
        print(f"Card posted to {deps.settings.approvals_channel} for approval.")
    return 0
