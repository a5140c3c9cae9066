"""Money as integer minor units plus an ISO 4217 code; Decimal only at the edges.

Parsing and formatting live here so that the CSV importer, the report and the bot agree on
what "12.50 USD" means to the cent.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import AfterValidator

# ISO 4217 minor-unit exponents. Codes not listed are refused: guessing an exponent would
# silently scale amounts by 100.
_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(
        "AED ARS AUD BDT BGN BRL CAD CHF CNY COP CZK DKK EGP EUR GBP GHS HKD HUF IDR ILS INR "
        "KES MAD MXN MYR NGN NOK NZD PEN PHP PKR PLN RON RSD RUB SAR SEK SGD THB TRY TWD UAH "
        "USD UYU ZAR".split(),
        2,
    ),
    **dict.fromkeys("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split(), 0),
    **dict.fromkeys("BHD IQD JOD KWD LYD OMR TND".split(), 3),
}


class MoneyError(ValueError):
    """An amount or currency a person typed or exported is not acceptable as money."""


def exponent(currency: str) -> int:
    try:
        return _EXPONENTS[currency]
    except KeyError:
        raise MoneyError(f"unknown currency code {currency!r}") from None


def currency_exponents() -> dict[str, int]:
    """Every accepted code and its exponent, for parsers that look codes up in bulk."""
    return dict(_EXPONENTS)


def is_currency(code: str) -> bool:
    return code in _EXPONENTS


def _currency_code(value: str) -> str:
    code = value.strip().upper()
    if not is_currency(code):
        raise ValueError(f"unknown currency code {value!r}")
    return code


# A pydantic field type: "eur" becomes "EUR"; an unknown code is a validation message.
CurrencyCode = Annotated[str, AfterValidator(_currency_code)]


def parse_major(text: str, currency: str) -> int:
    """Turn "1234.50" into 123450 for USD; refuse more decimals than the currency has."""
    exp = exponent(currency)
    raw = text.strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise MoneyError(f"amount {text!r} is not a number") from None
    if not value.is_finite() or "e" in raw.lower():
        raise MoneyError(f"amount {text!r} is not a plain decimal number")
    if value < 0:
        raise MoneyError(f"amount {text!r} is negative")
    places = -value.as_tuple().exponent  # type: ignore[operator]
    if places > exp:
        raise MoneyError(f"amount {text!r} has {places} decimals; {currency} allows {exp}")
    return int(value.scaleb(exp))


def to_major(amount_minor: int, currency: str) -> Decimal:
    exp = exponent(currency)
    return Decimal(amount_minor).scaleb(-exp).quantize(Decimal(1).scaleb(-exp))


def format_major(amount_minor: int, currency: str) -> str:
    """Plain decimal string in major units, e.g. "4516195.65" (the report's JSON form)."""
    return str(to_major(amount_minor, currency))


def format_amount(amount_minor: int, currency: str) -> str:
    """The number alone, as people read it: "4,516,195.65"."""
    return f"{to_major(amount_minor, currency):,.{exponent(currency)}f}"


def format_money(amount_minor: int, currency: str) -> str:
    """For people: thousands separators and the code, e.g. "USD 4,516,195.65"."""
    return f"{currency} {format_amount(amount_minor, currency)}"


def round_minor(exact: Decimal) -> int:
    """An exact amount in minor units to a whole one, half-up: the one rounding every
    converted, spread or weighted amount uses, so two surfaces never differ by a cent."""
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))
