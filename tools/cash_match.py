"""Which open invoices a bank credit pays: pure functions over a prepared book.

Signals, strongest first: invoice numbers in the reference (any spelling: `INV-001234`,
`inv 1234`, `1234`, several in one line) checked against the amount; then the payer, by a
learned alias or by name (the customer lookup's rules, on a word of letters: a number
shared with a customer's name names nobody), with the amount equal to one of that
customer's open invoices or to a combination of them (bounded search), or less than their
only open invoice (a part of it); last, an amount equal to exactly one open invoice in the
ledger (tools.cash_amount), or to the total of an invoice paid lately (paid twice: the
customer's unapplied cash). A payer we do not know (a treasury, an agent) paying less than
an invoice its reference names in full pays part of it when no invoice has that amount. A
shortfall up to the fee tolerance is read as bank fees (left open on the invoice); a larger
one is a partial payment applied oldest due first; an excess stays unapplied cash on the
customer. Money in another currency than
the invoice's is converted only at a stored rate, and the reasons say so; without a rate it
is not applied.

Confidence is calibrated so that 0.9 and above means the customer and the set of invoices
are as sure as a person reading the line would be (tests/bench/bench_cash.py measures it).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import replace
from functools import partial

from tools.cash_amount import by_amount_alone, not_a_customer, paid_again, pays_for_others
from tools.cash_book import (
    CLOSE_CAP,
    CLOSE_NAME,
    CONVERTED_CAP,
    LEARNED,
    Allocation,
    Book,
    Convert,
    OpenInv,
    Receipt,
    Suggestion,
    suggestion_key,
    whole_units,
)
from tools.cash_book import numbers as _numbers
from tools.cash_combos import combinations, with_named
from tools.cash_keys import number_keys, payer_key, reference_keys, spelled_like
from tools.cash_near import by_near_numbers
from tools.money import exponent, format_money

__all__ = [
    "CLOSE_NAME",
    "LEARNED",
    "Allocation",
    "Book",
    "Convert",
    "OpenInv",
    "Receipt",
    "Suggestion",
    "suggest",
    "suggestion_key",
]


def suggest(book: Book, r: Receipt) -> Suggestion | None:
    """The best suggestion for one receipt, or None when nothing points anywhere."""
    found: list[Suggestion] = []
    payer = book.payer(r.payer_name)
    stranger = (
        bool(payer_key(r.payer_name))
        and ((payer.customer_id is None and not payer.resembles) or pays_for_others(book, r, payer))
        and not not_a_customer(r)
    )
    for customer_id, invoices in _by_reference(book, r).items():
        how = book.payer_for(r.payer_name, customer_id)
        s = _against(book, r, customer_id, invoices, how, stranger)
        if s is not None:
            found.append(s)
    if found and max(s.confidence for s in found) >= 0.9:
        best = max(found, key=lambda s: s.confidence)
        if payer.customer_id == best.customer_id or book.payer_for(r.payer_name, best.customer_id):
            return best  # the payer paying what its own reference names
        # A misspelt number can name another customer's invoice: an invoice of exactly
        # this amount that the reference misspells outweighs a partial payment of it.
        alone = by_amount_alone(book, r, payer)
        return alone if alone is not None and alone.confidence > best.confidence else best
    if payer.customer_id is not None:
        found.append(_by_payer(book, r, payer.customer_id, payer.how))
    else:
        found.extend(_resembling(book, r, payer.resembles))
    for other in (by_amount_alone(book, r, payer), paid_again(book, r, payer)):
        if other is not None:
            found.append(other)
    weigh = partial(_by_payer, book, r)
    found.extend(by_near_numbers(book, r, payer, weigh))  # after them: a tie keeps their words
    return max(found, key=lambda s: s.confidence) if found else None


def _resembling(book: Book, r: Receipt, customers: Sequence[int]) -> list[Suggestion]:
    """A payer name close to several customers: the one whose open invoices the amount pays
    exactly, when only one does."""
    fits = []
    for customer_id in customers:
        s = _by_payer(book, r, customer_id, "payer name resembles the customer")
        if s.allocations and s.confidence >= 0.92:  # exact, unconverted
            fits.append(s)
    if len(fits) != 1:
        return []
    s = fits[0]
    sure = 0.92 if spelled_like(book.names, r.payer_name, s.customer_id) else CLOSE_CAP
    return [replace(s, confidence=min(s.confidence, sure))]


def _by_reference(book: Book, r: Receipt) -> dict[int, list[OpenInv]]:
    found: dict[int, list[OpenInv]] = {}
    for key in reference_keys(r.reference):
        for inv in book.by_key.get(key, ()):
            if inv not in found.setdefault(inv.customer_id, []):
                found[inv.customer_id].append(inv)
    return found


def _money(book: Book, r: Receipt, currency: str) -> tuple[int, str] | None:
    """The receipt in `currency` and the words saying how, or None without a rate."""
    if currency == r.currency:
        return r.amount_minor, ""
    converted = book.convert(r.amount_minor, r.currency, currency, r.booked_on)
    if converted is None:
        return None
    amount, rate = converted
    return amount, (
        f"paid in {r.currency}: {format_money(r.amount_minor, r.currency)} converted at "
        f"{rate.normalize()} to {format_money(amount, currency)}"
    )


def _allocate(invoices: Sequence[OpenInv], amount: int) -> tuple[tuple[Allocation, ...], int]:
    """Oldest due first; what is left over stays unapplied."""
    out = []
    left = amount
    for inv in sorted(invoices, key=lambda i: (i.due_on, i.invoice_id)):
        take = min(left, inv.open_minor)
        if take > 0:
            out.append(Allocation(inv.invoice_id, take))
            left -= take
    return tuple(out), left


def _against(
    book: Book,
    r: Receipt,
    customer_id: int,
    invoices: list[OpenInv],
    payer_how: str,
    stranger: bool,
) -> Suggestion | None:
    """The invoices a reference names, against the amount. `payer_how` says why the payer
    is their customer ("" when it is not); a stranger is a payer name that is no customer's
    (a treasury, an agent) and no bank's."""
    payer_ok = bool(payer_how)
    currency = invoices[0].currency
    invoices = [i for i in invoices if i.currency == currency]
    money = _money(book, r, currency)
    refs = f"reference names {_numbers(invoices)}"
    if money is None:
        return Suggestion(
            customer_id,
            0.3,
            currency,
            (),
            0,
            (
                refs,
                f"paid in {r.currency}, invoiced in {currency}, and no exchange rate on or "
                f"before {r.booked_on}: not applied",
            ),
        )
    amount, how = money
    reasons = [refs] + ([how] if how else []) + ([payer_how] if payer_ok else [])
    due = sum(i.open_minor for i in invoices)
    tolerance = int(book.fee_tolerance.scaleb(exponent(currency)))
    if amount != due and 1 < len(invoices) <= 8:
        # A reference also naming a number that is not paid here (a typo, an older invoice):
        # the named invoices that the amount pays exactly.
        fits = [
            combo
            for size in range(1, len(invoices))
            for combo in itertools.combinations(invoices, size)
            if sum(i.open_minor for i in combo) == amount
        ]
        if len(fits) == 1:
            words = f"amount equals the open total of {_numbers(fits[0])}, of those named"
            conf = (0.95 if payer_ok else 0.9) if not how else CONVERTED_CAP
            allocations, _ = _allocate(fits[0], amount)
            return Suggestion(customer_id, conf, currency, allocations, 0, (*reasons, words))
    if amount == due:
        conf, words = 0.99, "amount equals their open total"
    elif 0 < due - amount <= tolerance:
        conf = 0.96
        words = f"short by {format_money(due - amount, currency)}: bank fees, left open"
    elif amount > due:
        wider = with_named(invoices, book.by_customer.get(customer_id, ()), amount)
        if len(wider) == 1:
            allocations, _ = _allocate(wider[0], amount)
            words = f"amount equals the open total of {_numbers(wider[0])}, with those named"
            return Suggestion(
                customer_id,
                CONVERTED_CAP if how else 0.95,
                currency,
                allocations,
                0,
                (*reasons, words),
            )
        conf = 0.85 if payer_ok else 0.7
        words = f"overpaid by {format_money(amount - due, currency)}: stays unapplied cash"
    else:
        conf = 0.9 if payer_ok else 0.7
        words = f"partial payment: {format_money(due - amount, currency)} stays open"
        mine = book.by_customer.get(customer_id, ())
        if any(i.open_minor == amount and i not in invoices for i in mine):
            # Exactly another of their invoices: the number or the amount is a slip.
            conf = min(conf, 0.8)
            words += "; the amount is exactly another of their open invoices"
        elif stranger and _whole_numbers(r, invoices) and not _amount_known(book, r):
            # A payer paying for someone else names what it pays by its whole number; with
            # no open or lately paid invoice of exactly this amount, no slip explains it.
            conf = 0.9
            words += "; the payer pays for the customer (no invoice has this amount)"
    if how:
        conf = min(conf, CONVERTED_CAP)
    allocations, left = _allocate(invoices, amount)
    return Suggestion(customer_id, conf, currency, allocations, left, (*reasons, words))


ODD_SHORT = 0.85  # a shortfall in odd cents read as a fee: a part payment is as likely


def _fee_or_part(
    short_minor: int, currency: str, sure: float, *, others: bool
) -> tuple[float, str]:
    """How sure a shortfall is a bank fee, and the words: banks charge whole amounts, so a
    shortfall in odd cents may as well be a part payment of another of their invoices
    (`others`: the customer has more open invoices)."""
    if whole_units(short_minor, currency) or not others or sure <= ODD_SHORT:
        return sure, ": bank fees, left open"
    return ODD_SHORT, ", in odd cents: bank fees or a part payment, left open"


def _whole_numbers(r: Receipt, invoices: Sequence[OpenInv]) -> bool:
    """Whether the reference carries each invoice's whole number, not a part or a slip."""
    keys = set(reference_keys(r.reference))
    return all(number_keys(i.number or i.external_id) & keys for i in invoices)


def _names_other(r: Receipt, inv: OpenInv) -> bool:
    """Whether the reference carries a number that is not this invoice's or the start of it
    (a bank cuts references off): a slip of another number, or another invoice."""
    mine = number_keys(inv.number or inv.external_id)
    return any(
        not any(m.startswith(k) for m in mine) for k in reference_keys(r.reference) if len(k) >= 3
    )


def _amount_known(book: Book, r: Receipt) -> bool:
    """Whether an open or lately paid invoice has exactly this amount."""
    key = (r.currency, r.amount_minor)
    return key in book.by_amount or key in book.settled_amounts


def _by_payer(book: Book, r: Receipt, customer_id: int, how: str) -> Suggestion:
    invoices = book.by_customer.get(customer_id, ())
    currencies = {i.currency for i in invoices} or {r.currency}
    currency = r.currency if r.currency in currencies else sorted(currencies)[0]
    money = _money(book, r, currency)
    if money is None:
        return Suggestion(
            customer_id,
            0.3,
            r.currency,
            (),
            r.amount_minor,
            (
                how,
                f"paid in {r.currency}, open invoices in {currency}, and no exchange rate: "
                "not applied",
            ),
        )
    amount, conv = money
    pool = [i for i in invoices if i.currency == currency]
    base = (how,) + ((conv,) if conv else ())
    close = how == CLOSE_NAME and not spelled_like(book.names, r.payer_name, customer_id)
    cap = min(CONVERTED_CAP if conv else 1.0, CLOSE_CAP if close else 1.0)
    exact = [i for i in pool if i.open_minor == amount]
    if len(exact) == 1:
        words = f"amount equals the open amount of {_numbers(exact)}"
        return Suggestion(
            customer_id, min(0.95, cap), currency, _allocate(exact, amount)[0], 0, (*base, words)
        )
    if len(exact) > 1:
        words = f"amount equals {len(exact)} open invoices; the oldest is suggested"
        return Suggestion(
            customer_id, 0.7, currency, _allocate(exact[:1], amount)[0], 0, (*base, words)
        )
    combos = combinations(pool, amount)
    if len(combos) == 1:
        words = f"amount equals the open total of {_numbers(combos[0])}"
        allocations = _allocate(combos[0], amount)[0]
        return Suggestion(customer_id, min(0.92, cap), currency, allocations, 0, (*base, words))
    if combos:
        words = (
            f"amount equals {len(combos)} combinations of open invoices; the oldest is suggested"
        )
        return Suggestion(
            customer_id, 0.6, currency, _allocate(combos[0], amount)[0], 0, (*base, words)
        )
    tolerance = int(book.fee_tolerance.scaleb(exponent(currency)))
    # Short of an open invoice by a fee, or exactly one of their invoices paid lately paid
    # again? Another customer's paid invoice of this amount says nothing: on a large ledger
    # most amounts are some invoice's.
    again = (customer_id, currency, amount) in book.settled_of
    fee = 0.8 if again else 0.9
    if again:
        base = (*base, "the amount is exactly an invoice paid lately: maybe paid twice")
    near = [i for i in pool if 0 < i.open_minor - amount <= tolerance]
    short_combos = [] if near else combinations(pool, amount, slack=tolerance)
    if len(short_combos) == 1:
        short_minor = sum(i.open_minor for i in short_combos[0]) - amount
        conf, why = _fee_or_part(short_minor, currency, fee, others=True)
        words = f"short of {_numbers(short_combos[0])} by {format_money(short_minor, currency)}"
        allocations = _allocate(short_combos[0], amount)[0]
        return Suggestion(
            customer_id, min(conf, cap), currency, allocations, 0, (*base, words + why)
        )
    whole = [i for i in near if whole_units(i.open_minor - amount, currency)]
    if len(near) > 1 and len(whole) == 1:
        # Banks charge fees in whole units: of several invoices within the tolerance, the
        # one short by a whole amount is the one paid.
        near, whole_words = whole, " (the only whole shortfall among their invoices)"
    else:
        whole_words = ""
    if again and not whole:
        fee = 0.7  # a shortfall in odd cents is no bank fee: paid twice is the reading
    if len(near) == 1:
        short_minor = near[0].open_minor - amount
        conf, why = _fee_or_part(short_minor, currency, fee, others=len(pool) > 1)
        words = f"short of {_numbers(near)} by {format_money(short_minor, currency)}{whole_words}"
        allocations = _allocate(near, amount)[0]
        return Suggestion(
            customer_id, min(conf, cap), currency, allocations, 0, (*base, words + why)
        )
    larger = [i for i in pool if i.open_minor > amount]
    if len(pool) == 1 and larger and not again and not _names_other(r, larger[0]):
        # Less than their one open invoice, with no number to say otherwise: a part of it.
        # A name learned once may be a treasury paying for several: a person looks.
        sure = 0.9 if how != LEARNED and not close else 0.85
        words = (
            f"partial payment of their only open invoice {_numbers(larger)}: "
            f"{format_money(larger[0].open_minor - amount, currency)} stays open"
        )
        allocations = _allocate(larger, amount)[0]
        return Suggestion(customer_id, min(sure, cap), currency, allocations, 0, (*base, words))
    words = "no open invoice or combination matches the amount: unapplied cash on the customer"
    return Suggestion(customer_id, 0.5, currency, (), amount, (*base, words))
