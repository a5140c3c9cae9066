"""A credit-limit alert: an account over its limit, or heading to it within 30 days."""

from __future__ import annotations

from datetime import date

from slack_sdk.models.blocks import Block

from bot.blocks.common import context, cut_lines, escape, fit, header, plain, sections
from tools.credit import TREND_DAYS, CreditPosition
from tools.format import format_pct
from tools.money import format_money


def credit_sentence(p: CreditPosition) -> str:
    """What the alert and the answer say about one account, in plain words."""
    cur = p.currency
    exposure, limit = format_money(p.exposure_minor, cur), format_money(p.limit_minor, cur)
    if p.status == "over":
        return (
            f"open AR {exposure} is over its credit limit {limit} ({format_pct(p.used_pct)} used)"
        )
    return (
        f"open AR {exposure} of its credit limit {limit} ({format_pct(p.used_pct)} used), up "
        f"from {format_money(p.exposure_before_minor, cur)} {TREND_DAYS} days ago: at this pace "
        f"it reaches the limit in {p.days_to_limit} days"
    )


def credit_alert_text(p: CreditPosition) -> str:
    return plain(f"{p.name}: {credit_sentence(p)}")


def credit_alert_blocks(p: CreditPosition, as_of: date) -> list[Block]:
    title = "Over credit limit" if p.status == "over" else "Heading to credit limit"
    owner = f" · owner <@{p.owner_slack_id}>" if p.owner_slack_id else ""
    return fit(
        [
            header(f"{title}: {p.name}"),
            *sections(
                [f"*{escape(p.name)}* ({escape(p.customer_id)}): {escape(credit_sentence(p))}."]
            ),
            context(f"as of end of {as_of} · exposure is open AR (no open orders recorded){owner}"),
        ]
    )


def credit_list_text(positions: list[CreditPosition]) -> str:
    return plain(f"{len(positions)} more account(s) over or heading to their credit limit")


def credit_list_blocks(positions: list[CreditPosition], as_of: date) -> list[Block]:
    lines = [f"• *{escape(p.name)}*: {escape(credit_sentence(p))}" for p in positions]
    shown, _more = cut_lines(
        lines, len(lines), rest="ask `who is over their credit limit?` for the full list"
    )
    return fit(
        [
            header(f"{len(positions)} more accounts over or near their credit limit"),
            *sections(shown),
            context(f"as of end of {as_of} · exposure is open AR (no open orders recorded)"),
        ]
    )
