"""What the amount of a bank credit says on its own: the one open invoice in the ledger of
exactly that amount, and an invoice paid lately paid a second time."""

from __future__ import annotations

import re
from collections.abc import Sequence

from rapidfuzz import fuzz

from tools.cash_book import (
    CLOSE_CAP,
    LEARNED,
    Allocation,
    Book,
    OpenInv,
    Payer,
    Receipt,
    Suggestion,
    whole_units,
)
from tools.cash_book import numbers as _numbers
from tools.cash_keys import (
    TRUNCATED_MIN,
    compact_number,
    compact_words,
    names_alike,
    payer_key,
    reference_keys,
    shares_word,
    spelled_like,
)
from tools.customer_lookup import resembles
from tools.money import exponent, format_money

# An amount that is not round and that an unrelated credit would hit less often than this
# (see Book.chance: about one stray credit in fifty lands on some open amount) names its
# invoice even when the payer is a name we have never seen (a parent company's treasury, a
# payment agent). On a dense ledger few amounts are that rare, and the rule says less.
RARE_CHANCE = 0.02
MISSPELT_NUMBER = 90  # likeness of a reference word to an invoice number with a typo
# Credits that are the bank's own or a supplier's money back, not a customer paying: an
# amount that happens to equal an open invoice says nothing about them.
_NOT_A_CUSTOMER = re.compile(
    r"\b(?:interest|int|zinsen|dividends?|refunds?|rebates?|cash ?back|fees?|charges?|"
    r"commission|reversal|returned|chargeback|bank|settlements?|payouts?|adj|adjustments?|"
    r"fx)\b",
    re.IGNORECASE,
)


def rare_among(book: Book, r: Receipt, invoices: Sequence[OpenInv] | None = None) -> bool:
    """Whether a credit that pays none of these open invoices (default: the ledger's) would
    rarely land on one's amount by chance: an amount that is not round, that no invoice paid
    lately has, and near which the invoices' amounts lie sparser than RARE_CHANCE per minor
    unit."""
    if (r.currency, r.amount_minor) in book.settled_amounts or not r.amount_minor % 100:
        return False
    if invoices is None:
        return book.chance(r.currency, r.amount_minor) < RARE_CHANCE
    low, high = int(r.amount_minor * 0.8), int(r.amount_minor * 1.25) + 1
    most = RARE_CHANCE * max(high - low, 1)
    near = 0
    for i in invoices:
        if low <= i.open_minor <= high and i.currency == r.currency:
            near += 1
            if near >= most:
                return False
    return True


def not_a_customer(r: Receipt) -> bool:
    """Whether the payer name or reference reads as interest, a refund, a fee or a bank."""
    return bool(_NOT_A_CUSTOMER.search(f"{r.payer_name} {r.reference}"))


def pays_for_others(book: Book, r: Receipt, payer: Payer) -> bool:
    """Whether the payer is known only from an earlier approved match and its name reads
    like no word of that customer's name (a treasury, a payment agent): it paid for that
    customer once and may pay for others, so it counts as a name we do not know."""
    return (
        payer.how == LEARNED
        and payer.customer_id is not None
        and not names_alike(book.names, r.payer_name, payer.customer_id)
    )


def by_amount_alone(book: Book, r: Receipt, payer: Payer) -> Suggestion | None:
    """The one open invoice in the ledger of exactly this amount: sure when the reference
    starts its number (cut off), or misspells it and the payer name points to its customer,
    or when the payer is a name we have never seen and the amount is one a stray credit
    would rarely hit (and no invoice of it was paid lately). A word that is exactly some
    real invoice's number names that invoice and is no misspelling; a payer name that merely
    resembles its customer is as often another firm sharing a word with it, and a payer
    that is another customer is not guessed away."""
    same = book.by_amount.get((r.currency, r.amount_minor), ())
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
        bool(r.payer_name.strip())
        and resembles(book.names, r.payer_name, inv.customer_id)
        and names_alike(book.names, r.payer_name, inv.customer_id)
    )
    stranger = (
        (payer.how == "" or pays_for_others(book, r, payer))
        and bool(payer_key(r.payer_name))
        and not not_a_customer(r)
    )
    if any(number.startswith(w) for w in written):
        why, conf = "reference is the start of its number (cut off)", 0.95
    elif any(fuzz.ratio(w, number) >= MISSPELT_NUMBER for w in written):
        # A one-character slip also turns one real number into another: with the payer
        # naming another customer (or a bank), a person looks first.
        why, conf = (
            "reference is its number misspelt",
            0.95 if theirs else 0.9 if stranger else 0.85,
        )
    elif (
        inv.customer_id in payer.resembles
        or (
            resembles(book.names, r.payer_name, inv.customer_id)
            and names_alike(book.names, r.payer_name, inv.customer_id)
        )
        or shares_word(book.names, r.payer_name, inv.customer_id)
    ):
        spelled = spelled_like(book.names, r.payer_name, inv.customer_id)
        why, conf = "payer name resembles the customer", 0.92 if spelled else CLOSE_CAP
    elif stranger and rare_among(book, r):
        why, conf = "payer not recognised, but no stray credit is likely to hit this amount", 0.9
    else:
        why, conf = "payer not recognised", 0.6
    allocation = (Allocation(inv.invoice_id, r.amount_minor),)
    return Suggestion(inv.customer_id, conf, inv.currency, allocation, 0, (why, words))


def paid_again(book: Book, r: Receipt, payer: Payer) -> Suggestion | None:
    """A credit of exactly the total of an invoice paid lately, when the reference names
    that invoice or the payer is its customer by name or a learned alias: the customer's
    money, paid twice, to stay unapplied cash on the customer (a refund or a later invoice
    is a person's call). Not when one of the customer's open invoices has this very amount,
    or this amount and a bank fee: paying a new invoice of a recurring amount under last
    month's number is as likely."""
    keys = reference_keys(r.reference)
    named = {
        paid
        for key in keys
        if key not in book.by_key
        for paid in book.settled_by_key.get(key, ())
        if paid[1] == r.currency and paid[2] == r.amount_minor
    }
    if len(named) > 1:
        return None
    if named:
        number, _, _, customer_id = next(iter(named))
        why = f"reference names {number}, paid in full lately, and the amount is its total"
    elif payer.customer_id is not None and (
        payer.how in ("payer name matches the customer", LEARNED)
        or spelled_like(book.names, r.payer_name, payer.customer_id)
    ):
        customer_id = payer.customer_id
        paid = book.settled_of.get((customer_id, r.currency, r.amount_minor), ())
        if len(paid) != 1 or keys:
            return None
        number = paid[0]
        why = f"the amount is the total of their {number}, paid in full lately"
    else:
        return None
    tolerance = int(book.fee_tolerance.scaleb(exponent(r.currency)))
    if any(
        i.currency == r.currency
        and 0 <= (short := i.open_minor - r.amount_minor) <= tolerance
        and whole_units(short, r.currency)
        for i in book.by_customer.get(customer_id, ())
    ):
        return None  # or one of their open invoices, exactly or short by a bank fee
    how = (
        payer.how if payer.customer_id == customer_id else book.payer_for(r.payer_name, customer_id)
    )
    known = payer.customer_id is not None and not pays_for_others(book, r, payer)
    if not how and (known or not_a_customer(r)):
        return None  # another customer's money, or not a customer's at all
    conf = 0.95 if named and how else 0.9
    who = how or "payer not recognised"
    words = f"paid twice: {format_money(r.amount_minor, r.currency)} stays unapplied cash"
    return Suggestion(customer_id, conf, r.currency, (), r.amount_minor, (who, why, words))
