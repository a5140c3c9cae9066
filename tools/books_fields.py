"""Reading an accounting system's JSON objects: the rules every accounting connector shares.

An object that cannot be read raises `Malformed` naming the field, so the sync reports it and
goes on with the rest of its page. Amounts are exact: a JSON number, parsed as a Decimal, must
fit the currency's minor unit (JPY has none, USD two), or the object is refused.

Bad debt: arbot writes an approved write-off back as a credit document whose note starts with
`BAD_DEBT_NOTE`; read back, its application to an invoice is that invoice's write-off, not a
credit (bad debt % counts it, credit sales do not shrink). One written by hand in the books with
the same note reads the same way.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from tools.money import exponent

BAD_DEBT_NOTE = "Bad debt write-off"
# A Stripe invoice id as the books carry it in a note or reference ("Stripe in_1Nv...").
_STRIPE_INVOICE_ID = re.compile(r"(?<![A-Za-z0-9_])in_[A-Za-z0-9]{3,}")
BAD_DEBT_METHOD = "bad_debt"
Obj = dict[str, Any]


@dataclass(frozen=True)
class BadDebt:
    """A bad-debt credit applied to an invoice: its write-off when it covers what the invoice
    still owed at that date, else a credit of its amount (tools.books_apply decides, it needs
    the ledger). `cause` is the application's row key, "DOCUMENT-ID:...", so that when the
    document is voided, deleted or unapplied the write-off it made is undone."""

    invoice: str
    at: datetime
    amount_minor: int
    currency: str
    cause: str


class Malformed(ValueError):
    """An object the ledger cannot take; the message names the field."""


def need(obj: Obj, *path: str) -> Any:
    value: Any = obj
    try:  # a sync reads hundreds of thousands of fields: the well-formed path costs least
        for key in path:
            value = value[key] if isinstance(value, dict) else _missing(path)
            if value is None:
                _missing(path)
    except KeyError:
        _missing(path)
    return value


def _missing(path: tuple[str, ...]) -> Any:
    raise Malformed(f"{'.'.join(path)} is missing")


def maybe(obj: Obj, *path: str) -> Any:
    try:
        return need(obj, *path)
    except Malformed:
        return None


def minor(value: Any, currency: str, name: str) -> int:
    """Major units (a JSON number, parsed as Decimal) to exact minor units."""
    if isinstance(value, bool):
        raise Malformed(f"{name} {value!r} is not a number")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise Malformed(f"{name} {value!r} is not a number") from exc
    if not amount.is_finite():
        raise Malformed(f"{name} {value!r} is not a number")
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise Malformed(f"{name} {value} has more decimals than {currency} allows")
    return int(scaled)


def bounded_id(key: str, step: str, limit: int) -> str:
    """`arbot-KEY-STEP`, the id a vendor keeps to answer a retried write once, within its
    `limit` of characters: a key that would not fit is replaced by its digest, never cut, so
    two keys stay two ids."""
    rid = f"arbot-{key}{step}"
    if len(rid) <= limit:
        return rid
    digest = hashlib.sha256(key.encode()).hexdigest()
    return f"arbot-{digest[: limit - len('arbot-') - len(step)]}{step}"


def stripe_invoice_id(*texts: object) -> str | None:
    """The first Stripe invoice id in the texts (a note, a reference, custom fields), read in
    order: how an accounting record names the Stripe invoice it books."""
    for t in texts:
        found = _STRIPE_INVOICE_ID.search(t) if isinstance(t, str) else None
        if found:
            return found.group(0)
    return None
