"""Converting between two foreign currencies: a bank credit in one currency paying an invoice in
another goes through both rates to the reporting currency, on or before the booking day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from db.payments import fx_rate
from tools.money import exponent, round_minor


def rate_between(
    session: Session, source: str, target: str, on: date, reporting: str
) -> Decimal | None:
    """Units of `target` per one unit of `source` at the rates on or before `on` (each quoted
    in the reporting currency); None without a rate."""
    rates = []
    for cur in (source, target):
        rate = Decimal(1) if cur == reporting else fx_rate(session, cur, on)
        if rate is None:
            return None
        rates.append(rate)
    return rates[0] / rates[1]


def convert_at(amount_minor: int, source: str, target: str, rate: Decimal) -> int:
    """`amount_minor` of `source` in `target` minor units at `rate`, half-up."""
    exact = Decimal(amount_minor) * rate * Decimal(10) ** (exponent(target) - exponent(source))
    return round_minor(exact)
