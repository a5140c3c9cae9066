"""Amounts in the reporting currency with the account's own beside them, worded one way for
the digest and the alerts, so the same figure reads the same on both."""

from __future__ import annotations

from collections.abc import Mapping

from tools.money import format_money
from tools.risk_money import ScoreInMoney


def converted_text(minor: int, currency: str, own: Mapping[str, int]) -> str:
    """ "USD 217.12 (GBP 171.67)", "USD 51,000.00 (USD 1,000.00 + GBP 40,000.00)"; just
    "USD 217.12" when every amount is in USD."""
    shown = format_money(minor, currency)
    parts = {c: a for c, a in sorted(own.items()) if a}
    if set(parts) - {currency}:
        shown += " (" + " + ".join(format_money(a, c) for c, a in parts.items()) + ")"
    return shown


def balance_text(a: ScoreInMoney) -> str:
    return converted_text(a.balance_reporting_minor, a.reporting_currency, a.balance_by_currency)


def risk_money_text(a: ScoreInMoney) -> str:
    """ "USD 55,304.62 at risk (balance USD 110,609.23, score 50)"."""
    return (
        f"{format_money(a.at_risk_minor, a.reporting_currency)} at risk "
        f"(balance {balance_text(a)}, score {a.score})"
    )
