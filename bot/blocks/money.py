"""Amounts in the reporting currency with the account's own beside them, worded one way for
the digest and the alerts, so the same figure reads the same on both."""

from __future__ import annotations

from tools.format import converted_text
from tools.money import format_money
from tools.risk_money import ScoreInMoney

__all__ = ["balance_text", "converted_text", "over_text", "risk_money_text"]


def balance_text(a: ScoreInMoney) -> str:
    """Without a rate, each currency's own amount alone: no total pretends to add them."""
    shown = a.balance_reporting_minor if a.converted else None
    return converted_text(shown, a.reporting_currency, a.balance_by_currency)


def over_text(a: ScoreInMoney) -> str:
    shown = a.over_reporting_minor if a.converted else None
    return converted_text(shown, a.reporting_currency, a.over_by_currency)


def risk_money_text(a: ScoreInMoney) -> str:
    """ "USD 55,304.62 at risk (balance USD 110,609.23, score 50)"."""
    return (
        f"{format_money(a.at_risk_minor, a.reporting_currency)} at risk "
        f"(balance {balance_text(a)}, score {a.score})"
    )
