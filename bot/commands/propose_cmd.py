"""`arbot propose dunning|write-off`: draft an action, print its card and post it for approval.

The proposer is the OS user running the command ("cli:alice"), never a Slack user typed on
the command line. The card goes to ARBOT_APPROVALS_CHANNEL when Slack is configured (the
output says where it went, or which settings would post it). Nothing is sent or written off
here: the action waits for an approver's click, and the outbox (in `arbot serve`) executes it
afterwards.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from pydantic import ValidationError

from bot.render.proposal import proposal_view
from tools.actions import ActionError, ActionInfo, cli_proposer
from tools.deps import ToolDeps, connect
from tools.dunning import DunningInput, propose_dunning_email
from tools.settings import load_settings
from tools.write_off import WriteOffInput, propose_write_off


def register(sub: Any) -> None:
    parser = sub.add_parser("propose", help="propose a dunning email or a write-off for approval")
    kinds = parser.add_subparsers(dest="kind", required=True, metavar="KIND")
    dun = kinds.add_parser("dunning", help="draft a reminder email to a customer's AP contact")
    dun.add_argument("--customer", help="customer id, external id or name")
    dun.add_argument("--invoice", help="one invoice (number or id); all overdue ones if omitted")
    dun.add_argument("--tone", help="friendly reminder, firm or final notice (default: by stage)")
    _no_requested_by(dun)
    dun.set_defaults(run=run)
    wo = kinds.add_parser("write-off", help="propose writing off an invoice")
    wo.add_argument("--invoice", required=True, help="invoice number or id")
    wo.add_argument("--reason", required=True, help="why it cannot be collected")
    _no_requested_by(wo)
    wo.set_defaults(run=run)


def _no_requested_by(parser: argparse.ArgumentParser) -> None:
    """A command line cannot prove which Slack user runs it, so it may not name a proposer;
    the hidden option lets `--requested-by` get that reason (REQUESTED_BY_GONE) rather than
    argparse's bare "unrecognized arguments"."""
    parser.add_argument("--requested-by", help=argparse.SUPPRESS)


REQUESTED_BY_GONE = (
    "arbot propose: --requested-by is no longer accepted: a proposal from the command line is "
    "recorded as proposed by your OS user ({who}); map OS users to Slack users with "
    "ARBOT_CLI_SLACK_USERS so they cannot approve their own proposals"
)


def run(args: argparse.Namespace) -> int:
    return propose(connect(load_settings()), args)


NOT_POSTED = (
    "Card not posted to Slack: set SLACK_BOT_TOKEN and ARBOT_APPROVALS_CHANNEL to post it for "
    "approval."
)


def post_for_approval(deps: ToolDeps, a: ActionInfo) -> str | None:
    """Post the card to the approvals channel; the channel, or None when Slack is not set up."""
    s = deps.settings
    if s.slack_bot_token is None or not s.approvals_channel:
        return None
    from bot.cards import post_card
    from bot.slack_client import make_web_client

    post_card(make_web_client(s), deps, a, channel=s.approvals_channel)
    return s.approvals_channel


def show_card(deps: ToolDeps, a: ActionInfo, *, quiet: bool = False) -> dict[str, Any]:
    """Post a proposal's card for approval, whoever proposed it, and say so.

    Prints the card's plain text and where it went (unless `quiet`, for `--json`); the
    not-posted line goes to stderr, so stdout stays the card (or the JSON) alone. Returns what
    `arbot ask --json` reports of the card.
    """
    channel = post_for_approval(deps, a)
    if not quiet:
        print(proposal_view(a).text)
        if channel:
            print(f"Card posted to {channel} for approval.")
    if channel is None:
        print(NOT_POSTED, file=sys.stderr)
    return {"action_id": a.id, "posted_to": channel}


def propose(deps: ToolDeps, args: argparse.Namespace) -> int:
    who = cli_proposer()
    if args.requested_by is not None:
        print(REQUESTED_BY_GONE.format(who=who), file=sys.stderr)
        return 2
    try:
        if args.kind == "dunning":
            a = propose_dunning_email(
                deps,
                DunningInput(
                    customer=args.customer,
                    invoice=args.invoice,
                    tone=args.tone,
                    requested_by=who,
                ),
            )
        else:
            a = propose_write_off(
                deps,
                WriteOffInput(invoice=args.invoice, reason=args.reason, requested_by=who),
            )
    except ValidationError as exc:
        for err in exc.errors():
            where = "-".join(map(str, err["loc"])) or args.kind
            print(f"arbot propose: {where}: {err['msg']}", file=sys.stderr)
        return 2
    except ActionError as exc:
        print(f"arbot propose: {exc}", file=sys.stderr)
        return 1
    show_card(deps, a)
    return 0
