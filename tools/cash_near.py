"""A reference word that is no invoice's number, but a few invoices' numbers cut off by the
bank ("INV-C03397") or written with one slip ("INV-C046666-033" for INV-C046666-013): the
invoices it can stand for. Among a handful of invoices an exact amount is as telling as a
number, where among a whole ledger's it is not; and when they are all one customer's, the
reference names that customer."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import NamedTuple

from tools.cash_amount import not_a_customer, rare_among
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
from tools.cash_keys import TRUNCATED_MIN, compact_words, payer_key, spelled_like
from tools.money import exponent

# A cut-off word starting more open invoices' numbers than this says little by itself:
# among so many invoices an exact amount names one only when a stray credit would rarely
# hit it (tools.cash_amount's rule for a ledger, applied to these invoices).
MOST_STARTED = 200
MOST_WIDE = 20_000  # beyond this the word says nothing
SHORTEST_CUT = 3  # letters and digits of a cut-off word, with a digit among them
CUT_OFF = "reference is the start of their numbers (cut off)"
MISSPELT = "reference is one of their numbers misspelt"
MOST_CUSTOMERS = 12  # customers a cut-off reference may stand for, to weigh their invoices
NO_PAYER_CAP = 0.85  # a slip with no payer name behind it


class Near(NamedTuple):
    invoices: Sequence[OpenInv]  # what the words stand for, in no particular order
    exact: list[OpenInv]  # of them, those of exactly the credit's amount
    how: str  # CUT_OFF or MISSPELT


def near_invoices(book: Book, r: Receipt) -> Near | None:
    """The open invoices the reference's words stand for when no word is a real invoice's
    number (such a word names its invoice and is no slip of another), or None."""
    words = [
        w
        for w in compact_words(r.reference)
        if len(w) >= SHORTEST_CUT and any(ch.isdigit() for ch in w)
    ]
    if not words or any(book.is_number(w.lstrip("0")) for w in words):
        return None
    started = [(w, found) for w in words if (found := book.ledger.starting(w, MOST_WIDE))]
    slipped = {
        inv.invoice_id: inv
        for w in words
        if len(w) >= TRUNCATED_MIN
        for key in _slips(w)
        for inv in book.by_key.get(key, ())
    }
    if started and slipped:
        return None  # a cut-off and a slip reading at once: a person reads it
    same = book.by_amount.get((r.currency, r.amount_minor), ())
    if slipped:
        exact = [i for i in same if i.invoice_id in slipped]
        return Near(list(slipped.values()), exact, MISSPELT)
    if not started:
        return None
    compact_of = book.ledger.compact_of
    exact = [i for i in same if any(compact_of[i.invoice_id].startswith(w) for w, _ in started)]
    if len(started) == 1:
        return Near(started[0][1], exact, CUT_OFF)
    merged = {inv.invoice_id: inv for _, found in started for inv in found}
    return Near(list(merged.values()), exact, CUT_OFF)


def by_near_numbers(
    book: Book, r: Receipt, payer: Payer, weigh: Callable[[int, str], Suggestion]
) -> list[Suggestion]:
    """What a cut-off or misspelt reference says: the one invoice it stands for of exactly
    this amount; else the one customer among theirs whose invoices the amount pays, as
    `weigh` reads a customer's invoices against the amount when the payer names them
    (exactly, in combination, or short by a fee; a part payment only when the invoices are
    all that customer's). A payer name that is another customer's (not merely theirs
    misspelt), or a credit that reads as no customer's, keeps it for a person."""
    near = near_invoices(book, r)
    if near is None:
        return []
    exact = near.exact
    if len(exact) == 1:
        words = f"amount equals the open amount of {numbers(exact)}"
        if len(near.invoices) > 1:
            words += f", the only one of the {len(near.invoices)} invoices it can stand for"
        conf = 0.95 if near.how == CUT_OFF or payer.customer_id == exact[0].customer_id else 0.9
        if len(near.invoices) > MOST_STARTED:
            if not rare_among(book, r, near.invoices):
                return []
            conf, words = 0.9, words + ", and no stray credit is likely to hit it"
        allocations = (Allocation(exact[0].invoice_id, r.amount_minor),)
        s = Suggestion(exact[0].customer_id, conf, r.currency, allocations, 0, (near.how, words))
    elif (
        exact
        or len(near.invoices) > MOST_STARTED
        or len(customers := sorted({i.customer_id for i in near.invoices})) > MOST_CUSTOMERS
    ):
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
    other = payer.customer_id not in (None, s.customer_id) and not _misspelt(book, r, s)
    if other or not_a_customer(r):
        s = replace(s, confidence=min(s.confidence, CLOSE_CAP))
    elif near.how != CUT_OFF and payer.customer_id is None and not payer_key(r.payer_name):
        # A slip can turn one real number into another: a person looks when no payer
        # name stands behind it.
        s = replace(s, confidence=min(s.confidence, NO_PAYER_CAP))
    return [s]


def _misspelt(book: Book, r: Receipt, s: Suggestion) -> bool:
    """Whether a payer name that the lookup gave to another customer reads as this one's
    name misspelt: alike letter for letter, and no customer's whole name exactly (a sister
    firm writing its own name is that firm)."""
    exact = book.names.by_folded_name.get(r.payer_name.strip().casefold())
    return not exact and spelled_like(book.names, r.payer_name, s.customer_id)


def _paid_in_full(book: Book, s: Suggestion) -> bool:
    """Whether the allocations pay their invoices in full, but for a bank fee."""
    mine = {i.invoice_id: i.open_minor for i in book.by_customer.get(s.customer_id, ())}
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
