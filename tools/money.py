"""Money as integer minor units plus an ISO 4217 code; Decimal only at the edges.

Parsing and formatting live here so that the CSV importer, the report and the bot agree on
what "12.50 USD" means to the cent.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import Annotated, NamedTuple

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


def round_minor(value: Decimal | Fraction) -> int:
    """An exact amount in minor units, rounded half-up to a whole minor unit: the one rounding
    rule for converted amounts and the money at risk, so a cent rounds the same everywhere.
    A Fraction (a sum of shares kept exact) rounds by the same rule: halves away from zero."""
    if isinstance(value, Fraction):
        whole = math.floor(abs(value) + Fraction(1, 2))
        return whole if value >= 0 else -whole
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


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


class TypedAmount(NamedTuple):
    """An amount as a person typed it in a question: major units, and the currency when the
    text names one ("EUR 12.400,00", "£500"); None when it does not ("12.4k")."""

    value: Decimal
    currency: str | None


_SYMBOLS = {"€": "EUR", "£": "GBP", "¥": "JPY", "$": None}
_MULTIPLIERS = {"k": 1000, "m": 1_000_000}
_TYPED = re.compile(
    r"^(?P<pre>[a-z]{3}\b|[$€£¥])?\s*(?P<num>\d[\d.,]*)\s*(?P<mult>[km](?![a-z]))?"
    r"\s*(?P<post>[a-z]{3}|dollars?)?$",
    re.IGNORECASE,
)
_GROUPED = re.compile(r"^\d{1,3}(?:X\d{3})+$")


def _typed_number(num: str, text: str, decimals: int | None, unit: str = "") -> Decimal:
    """The number in "12,400.00", "12.400,00", "12,4", "12.4"; refuses a reading that could
    go two ways ("12.400": twelve point four, or twelve thousand four hundred?). Three digits
    after one comma are thousands ("1,200", "1,200k"); after one point too when the currency
    named has fewer decimals ("€1.234" is 1234, as "€1,234" is)."""
    dots, commas = num.count("."), num.count(",")
    if dots and commas:
        point = "." if num.rfind(".") > num.rfind(",") else ","
        group = "," if point == "." else "."
        whole, _, frac = num.rpartition(point)
        if point in whole or not _GROUPED.match(whole.replace(group, "X")) or not frac:
            raise MoneyError(f"can't read {text!r} as an amount: check the separators")
        return Decimal(f"{whole.replace(group, '')}.{frac}")
    sep = "." if dots else "," if commas else ""
    if not sep:
        return Decimal(num)
    head, _, tail = num.rpartition(sep)
    if head.count(sep) or len(tail) == 3:
        thousands = sep == "," or head.count(sep) or (decimals is not None and decimals < 3)
        if _GROUPED.match(num.replace(sep, "X")) and thousands:
            return Decimal(num.replace(sep, ""))  # 12,400 and 1.234.567: thousands
        if len(tail) == 3 and head.count(sep) == 0:
            short = f"{head}{sep}{tail.rstrip('0')}" if tail.rstrip("0") else head
            raise MoneyError(
                f"{text!r} could be {short}{unit} or {head}{tail}{unit}: "
                "write it without "
                "the separator, or with two decimals"
            )
        raise MoneyError(f"can't read {text!r} as an amount: check the separators")
    if not tail:
        raise MoneyError(f"can't read {text!r} as an amount: nothing after {sep!r}")
    return Decimal(f"{head}.{tail}")


def parse_typed_amount(text: str) -> TypedAmount:
    """The one reading of an amount in a question: "12400", "12,400", "$12,400.00", "12.4k",
    "12.4K", "EUR 12.400,00", "1.2m". Anything else is refused with a message saying why,
    never read as another number."""
    m = _TYPED.match(text.strip())
    if m is None:
        raise MoneyError(
            f"can't read {text!r} as an amount: write it like 12400, 12,400.00 or 12.4k"
        )
    pre, post = m["pre"] or "", (m["post"] or "").upper()
    if pre in _SYMBOLS:
        currency = _SYMBOLS[pre]
    elif pre:
        currency = pre.upper()
    else:
        currency = "USD" if post.startswith("DOLLAR") else post or None
    if post and pre and currency != ("USD" if post.startswith("DOLLAR") else post):
        raise MoneyError(f"{text!r} names two currencies")
    if currency is not None and not is_currency(currency):
        raise MoneyError(f"can't read {text!r} as an amount: unknown currency code {currency!r}")
    mult = m["mult"]
    decimals = exponent(currency) if currency is not None else None
    value = _typed_number(m["num"], text.strip(), decimals, mult or "")
    if mult:
        value *= _MULTIPLIERS[mult.lower()]
    whole = value == value.to_integral_value()
    return TypedAmount(Decimal(int(value)) if whole else value, currency)
