"""Converting open amounts to the reporting currency, one way for every surface: the rate on
or before the as-of date, currencies added exactly, each aging bucket rounded half-up once.

`tools.metrics` re-exports these names, where the report's callers import them from.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import NamedTuple, Protocol

from sqlalchemy.orm import Session

from db.payments import fx_rate
from tools.buckets import BUCKETS, bucket_of, days_past_due
from tools.money import exponent, round_minor

log = logging.getLogger(__name__)


class MetricsError(ValueError):
    """A report cannot be given as asked (e.g. no exchange rate); the message says what to do."""


class Converter:
    """Per-currency sums into the reporting currency at the rate on or before the as-of date."""

    def __init__(self, session: Session, target: str, on: date) -> None:
        self.session, self.target, self.on = session, target, on
        self._rates: dict[str, Decimal] = {target: Decimal(1)}

    def rate(self, currency: str) -> Decimal:
        if currency not in self._rates:
            found = fx_rate(self.session, currency, self.on)
            if found is None:
                raise MetricsError(
                    f"no exchange rate for {currency} on or before {self.on}: import fx_rates.csv "
                    f"with a {currency} rate, or report {currency} alone with --currency {currency}"
                )
            self._rates[currency] = found
        return self._rates[currency]

    def exact(self, amount_minor: int, currency: str) -> Decimal:
        """Unrounded amount in target minor units."""
        if amount_minor == 0 or currency == self.target:
            return Decimal(amount_minor)
        scale = exponent(self.target) - exponent(currency)
        return Decimal(amount_minor) * self.rate(currency) * Decimal(10) ** scale

    def minor(self, amounts: Mapping[str, int]) -> int:
        if all(c == self.target for c in amounts):  # whole minor units already: nothing rounds
            return sum(amounts.values())
        total = sum((self.exact(a, c) for c, a in amounts.items()), Decimal(0))
        return round_minor(total)

    def minor_or_none(self, amounts: Mapping[str, int]) -> int | None:
        """`minor`, or None when a currency has no rate: the one rule for alerts, which go
        out in the account's own currency rather than wait for a rate (the report, the
        digest and the answers call `minor` and stop with the error instead)."""
        try:
            return self.minor(amounts)
        except MetricsError:
            log.warning("event=unconverted currencies=%s on=%s", ",".join(amounts), self.on)
            return None


class OpenMoney(Protocol):
    """An open amount in one currency with its due date: an invoice, or a group of them."""

    @property
    def currency(self) -> str: ...
    @property
    def due_on(self) -> date: ...
    @property
    def open_minor(self) -> int: ...


class ConvertedBalance(NamedTuple):
    balance_minor: int
    aging_minor: dict[str, int]


def converted_balance(
    fx: Converter, per_bucket: Mapping[str, Mapping[str, int]]
) -> ConvertedBalance:
    """An account's balance in the target currency, from its open minor units per aging bucket
    and currency: the one way every surface (an answer, the overdue list, the money at risk)
    converts a balance.

    Each bucket is converted once (its currencies added exactly, rounded half-up once) and the
    balance is the sum of the rounded buckets, so the aging shown beside a balance adds up to
    it, as the report's aging adds up to its AR total. Rounding the exact total instead can
    differ from that sum by a cent for an account with several buckets in a foreign currency.
    """
    aging = {b: fx.minor(per_bucket.get(b, {})) for b in BUCKETS}
    return ConvertedBalance(sum(aging.values()), aging)


def by_bucket(rows: Iterable[OpenMoney], as_of: date) -> dict[str, dict[str, int]]:
    """Open minor units per aging bucket and currency."""
    per_bucket: dict[str, dict[str, int]] = {b: {} for b in BUCKETS}
    for row in rows:
        per_cur = per_bucket[bucket_of(days_past_due(as_of, row.due_on))]
        per_cur[row.currency] = per_cur.get(row.currency, 0) + row.open_minor
    return per_bucket


def converted_aging(fx: Converter, rows: Iterable[OpenMoney], as_of: date) -> dict[str, int]:
    """Each aging bucket's open amount in the target currency.

    Summed per currency first and converted once per bucket, so a customer's, a segment's and
    the ledger's aging round the same way.
    """
    return converted_balance(fx, by_bucket(rows, as_of)).aging_minor
