"""Amounts in the reporting currency with the account's own beside them, worded one way for
the digest and the alerts, so the same figure reads the same on both."""

from __future__ import annotations

from tools.money import format_money
from tools.risk_money import ScoreInMoney


def converted_text(minor: int, currency: str, own_minor: int, own_currency: str) -> str:
    """ "USD 217.12 (GBP 171.67)"; just "USD 217.12" when the account is in USD."""
    shown = format_money(minor, currency)
    if own_currency != currency:
        shown += f" ({format_money(own_minor, own_currency)})"
    return shown


def balance_text(a: ScoreInMoney) -> str:
    return converted_text(
        a.balance_reporting_minor, a.reporting_currency, a.balance_minor, a.currency
    )


def risk_money_text(a: ScoreInMoney) -> str:
    """ "USD 55,304.62 at risk (balance USD 110,609.23, score 50)"."""
    return (
        f"{format_money(a.at_risk_minor, a.reporting_currency)} at risk "
        f"(balance {balance_text(a)}, score {a.score})"
    )
