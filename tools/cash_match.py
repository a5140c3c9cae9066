"""Which open invoices a bank credit pays: pure functions over a prepared book.

Signals, strongest first: invoice numbers in the reference (any spelling: `INV-001234`,
`inv 1234`, `1234`, several in one line) checked against the amount; then the payer, by a
learned alias or by name (the customer lookup's rules), with the amount equal to one of
that customer's open invoices or to a combination of them (bounded search); last, an amount
equal to exactly one open invoice in the ledger. A shortfall up to the fee tolerance is read
as bank fees (left open on the invoice); a larger one is a partial payment applied oldest
due first; an excess stays unapplied cash on the customer. Money in another currency than
the invoice's is converted only at a stored rate, and the reasons say so; without a rate it
is not applied.

Confidence is calibrated so that 0.9 and above means the customer and the set of invoices
are as sure as a person reading the line would be (tests/bench/bench_cash.py measures it).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import replace

from rapidfuzz import fuzz

from tools.cash_book import (
    CLOSE_CAP,
    CLOSE_NAME,
    CONVERTED_CAP,
    LEARNED,
    Allocation,
    Book,
    Convert,
    OpenInv,
    Payer,
    Receipt,
    Suggestion,
    suggestion_key,
)
from tools.cash_book import numbers as _numbers
from tools.cash_combos import combinations, with_named
from tools.cash_keys import (
    TRUNCATED_MIN,
    compact_number,
    compact_words,
    payer_key,
    reference_keys,
    shares_word,
    spelled_like,
)
from tools.customer_lookup import resembles
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
    for customer_id, invoices in _by_reference(book, r).items():
        how = book.payer_for(r.payer_name, customer_id)
        s = _against(book, r, customer_id, invoices, bool(how), how)
        if s is not None:
            found.append(s)
    payer = book.payer(r.payer_name)
    if found and max(s.confidence for s in found) >= 0.9:
        best = max(found, key=lambda s: s.confidence)
        if payer.customer_id == best.customer_id or book.payer_for(r.payer_name, best.customer_id):
            return best  # the payer paying what its own reference names
        # A misspelt number can name another customer's invoice: an invoice of exactly
        # this amount that the reference misspells outweighs a partial payment of it.
        alone = _by_amount_alone(book, r, payer)
        return alone if alone is not None and alone.confidence > best.confidence else best
    if payer.customer_id is not None:
        found.append(_by_payer(book, r, payer.customer_id, payer.how))
    else:
        found.extend(_resembling(book, r, payer.resembles))
    alone = _by_amount_alone(book, r, payer)
    if alone is not None:
        found.append(alone)
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
        for inv in book.by_key.get(key, []):
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
    payer_ok: bool,
    payer_how: str,
) -> Suggestion | None:
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
        wider = with_named(invoices, book.by_customer.get(customer_id, []), amount)
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
        mine = book.by_customer.get(customer_id, [])
        if any(i.open_minor == amount and i not in invoices for i in mine):
            # Exactly another of their invoices: the number or the amount is a slip.
            conf = min(conf, 0.8)
            words += "; the amount is exactly another of their open invoices"
    if how:
        conf = min(conf, CONVERTED_CAP)
    allocations, left = _allocate(invoices, amount)
    return Suggestion(customer_id, conf, currency, allocations, left, (*reasons, words))


def _by_payer(book: Book, r: Receipt, customer_id: int, how: str) -> Suggestion:
    invoices = book.by_customer.get(customer_id, [])
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
    # Short of an open invoice by a fee, or exactly an invoice paid lately paid again?
    again = (currency, amount) in book.settled_amounts
    fee = 0.8 if again else 0.9
    if again:
        base = (*base, "the amount is exactly an invoice paid lately: maybe paid twice")
    near = [i for i in pool if 0 < i.open_minor - amount <= tolerance]
    short_combos = [] if near else combinations(pool, amount, slack=tolerance)
    if len(short_combos) == 1:
        short = format_money(sum(i.open_minor for i in short_combos[0]) - amount, currency)
        words = f"short of {_numbers(short_combos[0])} by {short}: bank fees, left open"
        allocations = _allocate(short_combos[0], amount)[0]
        return Suggestion(customer_id, min(fee, cap), currency, allocations, 0, (*base, words))
    if len(near) == 1:
        short = format_money(near[0].open_minor - amount, currency)
        words = f"short of {_numbers(near)} by {short}: bank fees, left open"
        return Suggestion(
            customer_id, min(fee, cap), currency, _allocate(near, amount)[0], 0, (*base, words)
        )
    words = "no open invoice or combination matches the amount: unapplied cash on the customer"
    return Suggestion(customer_id, 0.5, currency, (), amount, (*base, words))


# An amount that is not round and that an unrelated credit would hit less often than this
# (see Book.chance) names its invoice even when the payer is a name we have never seen (a
# parent company's treasury, a payment agent).
RARE_CHANCE = 0.004
MISSPELT_NUMBER = 90  # likeness of a reference word to an invoice number with a typo
# Credits that are the bank's own or a supplier's money back, not a customer paying: an
# amount that happens to equal an open invoice says nothing about them.
_NOT_A_CUSTOMER = re.compile(
    r"\b(?:interest|int|zinsen|dividends?|refunds?|rebates?|cash ?back|fees?|charges?|"
    r"commission|reversal|returned|chargeback|bank|settlements?|payouts?|adj|adjustments?|"
    r"fx)\b",
    re.IGNORECASE,
)


def not_a_customer(r: Receipt) -> bool:
    """Whether the payer name or reference reads as interest, a refund, a fee or a bank."""
    return bool(_NOT_A_CUSTOMER.search(f"{r.payer_name} {r.reference}"))


def _by_amount_alone(book: Book, r: Receipt, payer: Payer) -> Suggestion | None:
    """The one open invoice in the ledger of exactly this amount: sure when the reference
    starts its number (cut off), or misspells it and the payer name points to its customer,
    or when the payer is a name we have never seen and the amount is one a stray credit
    would rarely hit (and no invoice of it was paid lately). A word that is exactly some
    real invoice's number names that invoice and is no misspelling; a payer name that merely
    resembles its customer is as often another firm sharing a word with it, and a payer
    that is another customer is not guessed away."""
    same = book.by_amount.get((r.currency, r.amount_minor), [])
    if len(same) != 1:
        return None
    inv = same[0]
    words = f"amount equals the open amount of {_numbers(same)}, the only such invoice"
    number = compact_number(inv.number or inv.external_id)
    written = [
        w
        for w in compact_words(r.reference)
        if len(w) >= TRUNCATED_MIN and w != number and not book.is_number(w.lstrip("0"))
    ]
    theirs = payer.customer_id == inv.customer_id or (
        bool(r.payer_name.strip()) and resembles(book.names, r.payer_name, inv.customer_id)
    )
    if any(number.startswith(w) for w in written):
        why, conf = "reference is the start of its number (cut off)", 0.95
    elif any(fuzz.ratio(w, number) >= MISSPELT_NUMBER for w in written):
        # A one-character slip also turns one real number into another: without the payer
        # naming the customer, a person looks first.
        why, conf = "reference is its number misspelt", 0.95 if theirs else 0.85
    elif (
        inv.customer_id in payer.resembles
        or resembles(book.names, r.payer_name, inv.customer_id)
        or shares_word(book.names, r.payer_name, inv.customer_id)
    ):
        spelled = spelled_like(book.names, r.payer_name, inv.customer_id)
        why, conf = "payer name resembles the customer", 0.92 if spelled else CLOSE_CAP
    elif (
        payer.how == ""
        and payer_key(r.payer_name)
        and not not_a_customer(r)
        and (r.currency, r.amount_minor) not in book.settled_amounts
        and r.amount_minor % 100
        and book.chance(r.currency, r.amount_minor) < RARE_CHANCE
    ):
        why, conf = "payer not recognised, but no stray credit is likely to hit this amount", 0.9
    else:
        why, conf = "payer not recognised", 0.6
    allocation = (Allocation(inv.invoice_id, r.amount_minor),)
    return Suggestion(inv.customer_id, conf, inv.currency, allocation, 0, (why, words))
