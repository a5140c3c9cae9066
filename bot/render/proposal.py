"""A proposed action as its approval card: the card's blocks and the same card in words.

The blocks are `bot.blocks.approval`'s card; the text says what will happen (recipient,
subject and body; or invoice, amount, reason and effect) for notifications and for the
terminal, where `arbot ask` and `arbot propose` print it.
"""

from __future__ import annotations

from decimal import Decimal

from bot.blocks.approval import approval_blocks, approval_text
from bot.blocks.common import Rendered, plain
from bot.intents import Intent
from tools.actions import ActionInfo
from tools.format import format_days, format_pct
from tools.money import format_money


def _ratio(value: str | None) -> Decimal | None:
    """Effects are stored rounded, as strings; n/a (None) stays None."""
    return None if value is None else Decimal(value)


def _write_off_lines(a: ActionInfo) -> list[str]:
    p = a.payload
    inv, e = p["invoice"], p["effect"]
    cur = e["currency"]
    return [
        f"Action #{a.id} proposed by {a.proposed_by}: write off {inv['label']} of "
        f"{p['customer_name']}, {format_money(inv['open_minor'], inv['currency'])}; "
        f"approvals needed: {a.approvals_needed}",
        f"Reason: {p['reason']}",
        f"Effect: allowance used {format_money(e['allowance_used_minor'], cur)} of "
        f"{format_money(e['allowance_before_minor'], cur)}; bad debt "
        f"{format_pct(_ratio(e['bad_debt_pct_before']))} -> "
        f"{format_pct(_ratio(e['bad_debt_pct_after']))}; DSO "
        f"{format_days(_ratio(e['dso_before']))} -> {format_days(_ratio(e['dso_after']))}",
    ]


def _dunning_lines(a: ActionInfo) -> list[str]:
    p = a.payload
    lines = [
        f"Action #{a.id} proposed by {a.proposed_by}: send to {p['recipient']} "
        f"({p['tone']}, {p['drafted_by']})",
        f"Subject: {p['subject']}",
        "",
        p["body"],
    ]
    if p.get("excluded"):
        lines += ["", "Left out: " + "; ".join(p["excluded"])]
    return lines


def card_text(a: ActionInfo) -> str:
    details = _write_off_lines(a) if a.kind == "write_off" else _dunning_lines(a)
    return plain("\n".join([approval_text(a), *details]))


def proposal_view(a: ActionInfo, intent: Intent | None = None) -> Rendered:
    return Rendered(blocks=approval_blocks(a), text=card_text(a))
