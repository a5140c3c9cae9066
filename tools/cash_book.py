"""What the matcher reads: a bank credit, the open invoices prepared once into a book (by
number key, customer, amount), how a payer name resolves, and what a suggestion writes."""

from __future__ import annotations

import bisect
import hashlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple, TypeVar

from tools.cash_keys import names_alike, number_forms, payer_key, spelled_whole
from tools.customer_lookup import FOUND_SCORE, NameIndex, resembles
from tools.money import exponent


class OpenInv(NamedTuple):
    """An open invoice as the matcher reads it: a plain tuple, since a ledger makes
    hundreds of thousands of them per book."""

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


_AFTER_ALL = chr(0x10FFFF)  # sorts after every character a compact number holds
# An invoice settled lately: (number, currency, total, customer id).
Paid = tuple[str, str, int, int]


@dataclass(frozen=True)
class Ledger:
    """The open invoices and those settled lately, indexed the ways a bank line looks them
    up. It depends on the ledger alone, so one is built per ledger version and cut-off and
    shared by every statement matched against it (tools.cash_suggest)."""

    by_key: dict[str, tuple[OpenInv, ...]]  # number key -> open invoices, oldest due first
    by_customer: dict[int, tuple[OpenInv, ...]]
    by_amount: dict[tuple[str, int], tuple[OpenInv, ...]]
    amounts: dict[str, tuple[int, ...]]  # open amounts per currency, sorted
    # A credit of an amount paid lately may pay that invoice twice, and a reference naming
    # one names a real invoice, not a typo.
    settled_keys: set[str]
    settled_amounts: set[tuple[str, int]]
    # (customer, currency, total) -> the numbers of their invoices of that total paid lately
    settled_of: dict[tuple[int, str, int], tuple[str, ...]]
    settled_by_key: dict[str, tuple[Paid, ...]]  # number key -> the invoices paid lately
    # The open invoices' numbers in compact form (tools.cash_keys), sorted, and the invoice
    # of each: a reference cut off by the bank is the start of a few of them.
    compacts: tuple[str, ...]
    by_compact: tuple[OpenInv, ...]
    compact_of: dict[int, str]  # invoice id -> its compact number

    def starting(self, prefix: str, most: int) -> tuple[OpenInv, ...] | None:
        """The open invoices whose compact number starts with `prefix`, or None when there
        are more than `most` (the prefix says too little)."""
        low = bisect.bisect_left(self.compacts, prefix)
        high = bisect.bisect_left(self.compacts, prefix + _AFTER_ALL, low)
        return None if high - low > most else self.by_compact[low:high]


def index_ledger(invoices: Sequence[OpenInv], settled: Sequence[Paid] = ()) -> Ledger:
    """The indexes of `Ledger`; the number people write, the import id only for invoices
    without one."""
    ordered = sorted(invoices, key=_due)
    keys, compacts = number_forms([i.number or i.external_id for i in ordered])
    by_key: defaultdict[str, list[OpenInv]] = defaultdict(list)
    by_customer: defaultdict[int, list[OpenInv]] = defaultdict(list)
    by_amount: defaultdict[tuple[str, int], list[OpenInv]] = defaultdict(list)
    for inv, mine in zip(ordered, keys, strict=True):
        for key in mine:
            by_key[key].append(inv)
        by_customer[inv.customer_id].append(inv)
        by_amount[inv.currency, inv.open_minor].append(inv)
    amounts: defaultdict[str, list[int]] = defaultdict(list)
    for (currency, amount), same in by_amount.items():
        amounts[currency] += [amount] * len(same)
    settled_by_key: defaultdict[str, list[Paid]] = defaultdict(list)
    settled_of: defaultdict[tuple[int, str, int], list[str]] = defaultdict(list)
    for paid, mine in zip(settled, number_forms([p[0] for p in settled])[0], strict=True):
        number, currency, total, customer_id = paid
        for key in mine:
            settled_by_key[key].append(paid)
        settled_of[customer_id, currency, total].append(number)
    compacts_sorted, by_compact, compact_of = _sorted_by_compact(compacts, ordered)
    # Tuples in plain dicts: a lookup of a key that is not there adds nothing, and nothing
    # changes a ledger that every statement matched against it shares.
    return Ledger(
        _frozen(by_key),
        _frozen(by_customer),
        _frozen(by_amount),
        {currency: tuple(sorted(sums)) for currency, sums in amounts.items()},
        set(settled_by_key),
        {(p[1], p[2]) for p in settled},
        _frozen(settled_of),
        _frozen(settled_by_key),
        compacts_sorted,
        by_compact,
        compact_of,
    )


K = TypeVar("K")
V = TypeVar("V")


def _frozen(lists: dict[K, list[V]]) -> dict[K, tuple[V, ...]]:
    return {k: tuple(v) for k, v in lists.items()}


def _due(inv: OpenInv) -> tuple[date, int]:
    return inv.due_on, inv.invoice_id


def _sorted_by_compact(
    compacts: list[str], invoices: list[OpenInv]
) -> tuple[tuple[str, ...], tuple[OpenInv, ...], dict[int, str]]:
    """The compact numbers sorted, each invoice in that order (invoices of one number keep
    their oldest-due-first order), and each invoice's compact number by id."""
    order = sorted(range(len(compacts)), key=compacts.__getitem__)
    by_id = {inv.invoice_id: c for inv, c in zip(invoices, compacts, strict=True)}
    return tuple(compacts[n] for n in order), tuple(invoices[n] for n in order), by_id


@dataclass
class Book:
    ledger: Ledger
    names: NameIndex
    aliases: dict[str, int]
    fee_tolerance: Decimal
    convert: Convert
    _payers: dict[str, Payer] = field(default_factory=dict)

    @property
    def by_key(self) -> dict[str, tuple[OpenInv, ...]]:
        return self.ledger.by_key

    @property
    def by_customer(self) -> dict[int, tuple[OpenInv, ...]]:
        return self.ledger.by_customer

    @property
    def by_amount(self) -> dict[tuple[str, int], tuple[OpenInv, ...]]:
        return self.ledger.by_amount

    @property
    def settled_amounts(self) -> set[tuple[str, int]]:
        return self.ledger.settled_amounts

    @property
    def settled_of(self) -> dict[tuple[int, str, int], tuple[str, ...]]:
        return self.ledger.settled_of

    @property
    def settled_by_key(self) -> dict[str, tuple[Paid, ...]]:
        return self.ledger.settled_by_key

    def is_number(self, key: str) -> bool:
        """Whether a reference word is exactly some real invoice's number (open or lately
        settled): such a word names that invoice, it is no misspelling of another."""
        return key in self.ledger.by_key or key in self.ledger.settled_keys

    def chance(self, currency: str, amount: int) -> float:
        """How likely a credit that pays none of our invoices lands on some open amount by
        chance: the open invoices within a quarter of this amount, per minor unit of that
        span. Small on a sparse ledger, larger on a dense one."""
        amounts = self.ledger.amounts.get(currency, ())
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


def whole_units(amount_minor: int, currency: str) -> bool:
    """Whether an amount is a whole number of the currency's major units, as banks' fees
    are: a shortfall in odd cents is something else (a part payment, another invoice)."""
    unit: int = 10 ** exponent(currency)
    return amount_minor % unit == 0


def numbers(invoices: Sequence[OpenInv]) -> str:
    return ", ".join(i.number or i.external_id for i in invoices)
