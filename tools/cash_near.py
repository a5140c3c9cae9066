"""A reference word that is no invoice's number, but a few invoices' numbers cut off by the
bank ("INV-C03397") or written with one slip ("INV-C046666-033" for INV-C046666-013): the
invoices it can stand for. Among a handful of invoices an exact amount is as telling as a
number, where among a whole ledger's it is not; and when they are all one customer's, the
reference names that customer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import NamedTuple

from tools.cash_amount import not_a_customer
from tools.cash_book import (
    CLOSE_CAP,
    Allocation,
    Book,
    OpenInv,
    Payer,
    Receipt,
    Suggestion,
    numbers,
)
from tools.cash_keys import TRUNCATED_MIN, compact_words, payer_key
from tools.money import exponent

# A cut-off word starting more open invoices' numbers than this says too little: among
# hundreds of invoices one of a random amount is no longer rare.
MOST_STARTED = 200
CUT_OFF = "reference is the start of their numbers (cut off)"
MISSPELT = "reference is one of their numbers misspelt"
MOST_CUSTOMERS = 12  # customers a cut-off reference may stand for, to weigh their invoices
NO_PAYER_CAP = 0.85  # a slip with no payer name behind it


class Near(NamedTuple):
    invoices: list[OpenInv]  # oldest due first
    how: str  # CUT_OFF or MISSPELT


def near_invoices(book: Book, r: Receipt) -> Near | None:
    """The open invoices the reference's words stand for when no word is a real invoice's
    number (such a word names its invoice and is no slip of another), or None."""
    words = [w for w in compact_words(r.reference) if len(w) >= TRUNCATED_MIN]
    if not words or any(book.is_number(w.lstrip("0")) for w in words):
        return None
    cut: dict[int, OpenInv] = {}
    slipped: dict[int, OpenInv] = {}
    for word in words:
        for inv in book.ledger.starting(word, MOST_STARTED) or []:
            cut[inv.invoice_id] = inv
        for key in _slips(word):
            for inv in book.by_key.get(key, []):
                slipped[inv.invoice_id] = inv
    if cut and slipped:
        return None  # a cut-off and a slip reading at once: a person reads it
    found, how = (cut, CUT_OFF) if cut else (slipped, MISSPELT)
    if not found:
        return None
    return Near(sorted(found.values(), key=lambda i: (i.due_on, i.invoice_id)), how)


def by_near_numbers(
    book: Book, r: Receipt, payer: Payer, weigh: Callable[[int, str], Suggestion]
) -> list[Suggestion]:
    """What a cut-off or misspelt reference says: the one invoice it stands for of exactly
    this amount; else the one customer among theirs whose invoices the amount pays, as
    `weigh` reads a customer's invoices against the amount when the payer names them
    (exactly, in combination, or short by a fee; a part payment only when the invoices are
    all that customer's). A payer name that is another customer's, or a credit that reads
    as no customer's, keeps it for a person."""
    near = near_invoices(book, r)
    if near is None:
        return []
    exact = [
        i for i in near.invoices if i.currency == r.currency and i.open_minor == r.amount_minor
    ]
    customers = sorted({i.customer_id for i in near.invoices})
    if len(exact) == 1:
        words = f"amount equals the open amount of {numbers(exact)}"
        if len(near.invoices) > 1:
            words += f", the only one of the {len(near.invoices)} invoices it can stand for"
        conf = 0.95 if near.how == CUT_OFF or payer.customer_id == exact[0].customer_id else 0.9
        allocations = (Allocation(exact[0].invoice_id, r.amount_minor),)
        s = Suggestion(exact[0].customer_id, conf, r.currency, allocations, 0, (near.how, words))
    elif exact or len(customers) > MOST_CUSTOMERS:
        return []
    else:
        fits = [
            s
            for s in (weigh(c, near.how) for c in customers)
            if s.confidence >= 0.9 and (len(customers) == 1 or _paid_in_full(book, s))
        ]
        if len(fits) != 1:
            return []
        s = fits[0]
        if len(customers) > 1:
            s = replace(s, confidence=min(s.confidence, 0.9))
    if payer.customer_id not in (None, s.customer_id) or not_a_customer(r):
        s = replace(s, confidence=min(s.confidence, CLOSE_CAP))
    elif near.how != CUT_OFF and payer.customer_id is None and not payer_key(r.payer_name):
        # A slip can turn one real number into another: a person looks when no payer
        # name stands behind it.
        s = replace(s, confidence=min(s.confidence, NO_PAYER_CAP))
    return [s]


def _paid_in_full(book: Book, s: Suggestion) -> bool:
    """Whether the allocations pay their invoices in full, but for a bank fee."""
    mine = {i.invoice_id: i.open_minor for i in book.by_customer.get(s.customer_id, [])}
    short = sum(mine.get(a.invoice_id, 0) - a.amount_minor for a in s.allocations)
    return bool(s.allocations) and 0 <= short <= int(
        book.fee_tolerance.scaleb(exponent(s.currency))
    )


_DIGITS = "0123456789"


def _slips(word: str) -> set[str]:
    """The words one slip of a pen away: a digit written wrong, or two neighbours swapped."""
    out: set[str] = set()
    for n, ch in enumerate(word):
        if ch.isdigit():
            out.update(word[:n] + d + word[n + 1 :] for d in _DIGITS if d != ch)
        if n + 1 < len(word) and word[n + 1] != ch:
            out.add(word[:n] + word[n + 1] + ch + word[n + 2 :])
    out.discard(word)
    return {k.lstrip("0") if k.isdigit() else k for k in out}
