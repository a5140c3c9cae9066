"""What the matcher reads: a bank credit, the open invoices prepared once into a book (by
number key, customer, amount), how a payer name resolves, and what a suggestion writes."""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from tools.cash_keys import names_alike, number_keys, payer_key, spelled_whole
from tools.customer_lookup import FOUND_SCORE, NameIndex, resembles


@dataclass(frozen=True)
class OpenInv:
    invoice_id: int
    external_id: str
    number: str | None
    customer_id: int
    currency: str
    open_minor: int
    due_on: date


@dataclass(frozen=True)
class Receipt:
    txn_id: int
    booked_on: date
    amount_minor: int
    currency: str
    payer_name: str
    reference: str


@dataclass(frozen=True)
class Allocation:
    invoice_id: int
    amount_minor: int  # in the invoice's currency


@dataclass(frozen=True)
class Suggestion:
    customer_id: int
    confidence: float
    currency: str  # of the allocations and the remainder
    allocations: tuple[Allocation, ...]
    unapplied_minor: int  # what stays unapplied cash on the customer
    reasons: tuple[str, ...]


def suggestion_key(s: Suggestion) -> str:
    """A short fingerprint of what a suggestion would write (customer, invoices, amounts):
    a card's Apply button carries it, so a click applies what the card showed or nothing."""
    parts = [str(s.customer_id), s.currency, str(s.unapplied_minor)]
    parts += [f"{a.invoice_id}={a.amount_minor}" for a in s.allocations]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


# (amount, from currency, to currency, day) -> (converted amount, rate) or None
Convert = Callable[[int, str, str, date], tuple[int, Decimal] | None]


@dataclass
class Book:
    invoices: Sequence[OpenInv]
    names: NameIndex
    aliases: dict[str, int]
    fee_tolerance: Decimal
    convert: Convert
    # Invoices settled lately, (number, currency, total, customer id): a credit of one of
    # these amounts may pay it twice, and a reference naming one names a real invoice, not
    # a typo.
    settled: Sequence[tuple[str, str, int, int]] = ()
    by_key: dict[str, list[OpenInv]] = field(default_factory=dict)
    by_customer: dict[int, list[OpenInv]] = field(default_factory=dict)
    by_amount: dict[tuple[str, int], list[OpenInv]] = field(default_factory=dict)
    amounts: dict[str, list[int]] = field(default_factory=dict)  # open amounts, sorted
    settled_keys: set[str] = field(default_factory=set)
    settled_amounts: set[tuple[str, int]] = field(default_factory=set)
    # (customer, currency, total) -> the numbers of their invoices of that total paid lately
    settled_of: dict[tuple[int, str, int], list[str]] = field(default_factory=dict)
    # number key -> (number, currency, total, customer) of the invoice paid lately
    settled_by_key: dict[str, list[tuple[str, str, int, int]]] = field(default_factory=dict)
    _payers: dict[str, Payer] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for inv in sorted(self.invoices, key=lambda i: (i.due_on, i.invoice_id)):
            # The number people write; the import id only for invoices without one.
            for key in number_keys(inv.number or inv.external_id):
                self.by_key.setdefault(key, []).append(inv)
            self.by_customer.setdefault(inv.customer_id, []).append(inv)
            self.by_amount.setdefault((inv.currency, inv.open_minor), []).append(inv)
            self.amounts.setdefault(inv.currency, []).append(inv.open_minor)
        for amounts in self.amounts.values():
            amounts.sort()
        for paid in self.settled:
            number, currency, total, customer_id = paid
            for key in number_keys(number):
                self.settled_keys.add(key)
                self.settled_by_key.setdefault(key, []).append(paid)
            self.settled_amounts.add((currency, total))
            self.settled_of.setdefault((customer_id, currency, total), []).append(number)

    def is_number(self, key: str) -> bool:
        """Whether a reference word is exactly some real invoice's number (open or lately
        settled): such a word names that invoice, it is no misspelling of another."""
        return key in self.by_key or key in self.settled_keys

    def chance(self, currency: str, amount: int) -> float:
        """How likely a credit that pays none of our invoices lands on some open amount by
        chance: the open invoices within a quarter of this amount, per minor unit of that
        span. Small on a sparse ledger, larger on a dense one."""
        amounts = self.amounts.get(currency, [])
        low, high = int(amount * 0.8), int(amount * 1.25) + 1
        near = bisect.bisect_right(amounts, high) - bisect.bisect_left(amounts, low)
        return near / max(high - low, 1)

    def payer(self, name: str) -> Payer:
        """Who the payer name points to: a learned alias, else the name lookup's answer."""
        if name not in self._payers:
            self._payers[name] = self._find_payer(name)
        return self._payers[name]

    def payer_for(self, name: str, customer_id: int) -> str:
        """Why the payer name stands for this customer, or "" (no full lookup)."""
        key = payer_key(name)
        if key and self.aliases.get(key) == customer_id:
            return LEARNED
        if (
            key
            and resembles(self.names, name, customer_id, FOUND_SCORE)
            and names_alike(self.names, name, customer_id)
        ):
            return "payer name matches the customer"
        return ""

    def _find_payer(self, name: str) -> Payer:
        key = payer_key(name)
        if not key:
            return Payer(None, "", ())
        exact = self.names.by_folded_name.get(name.strip().casefold(), [])
        if len(exact) == 1:
            # A customer's whole name, legal suffix and all, is that customer, even where a
            # learned alias (keyed without the suffix) taught a sister firm's name.
            return Payer(exact[0].id, "payer name matches the customer", ())
        if key in self.aliases:
            return Payer(self.aliases[key], LEARNED, ())
        found = self.names.match(name)
        alike = [c for c in found.candidates if names_alike(self.names, name, c.customer_id)]
        if found.status == "found" and alike and alike[0].score >= 100:
            return Payer(alike[0].customer_id, "payer name matches the customer", ())
        if found.status == "found" and alike:
            return Payer(alike[0].customer_id, CLOSE_NAME, ())
        sisters = {cid for c in alike for cid in self._sisters(c.customer_id)}
        spelled = spelled_whole(self.names, name, sisters)
        if spelled is not None:
            # "Massiev BV" among Massive Inc, GmbH, BV...: the legal suffix tells them apart.
            return Payer(spelled, CLOSE_NAME, ())
        return Payer(None, "", tuple(c.customer_id for c in alike))

    def _sisters(self, customer_id: int) -> set[int]:
        """Customers of the same name but for the legal suffix (Massive Inc, Massive BV)."""
        normal = self.names.normal[customer_id]
        words = [self.names.by_word.get(w, set()) for w in normal.split()]
        common = set.intersection(*words) if words else {customer_id}
        return {cid for cid in common if self.names.normal[cid] == normal}


CLOSE_NAME = "payer name is close to the customer's"
# A converted amount needs a person's eye: every converted suggestion stays below 0.9.
CONVERTED_CAP = 0.85
# A payer name only close to the customer's (one shared word: "Acme Plumbing" and "Acme
# Corporation") names another firm as often as this one, whatever the amount says.
CLOSE_CAP = 0.8
LEARNED = "payer name learned from an earlier approved match"


@dataclass(frozen=True)
class Payer:
    customer_id: int | None  # the customer the name (or a learned alias) names
    how: str
    resembles: tuple[int, ...]  # customers whose names are close, when none is clear


def numbers(invoices: Sequence[OpenInv]) -> str:
    return ", ".join(i.number or i.external_id for i in invoices)
