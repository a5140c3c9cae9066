"""How invoice numbers and payer names are spelled in bank references, reduced to keys that
compare equal however a bank or a customer wrote them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from rapidfuzz import fuzz

from tools.customer_lookup import NameIndex, normalize

_DIGITS = re.compile(r"\d+")
TRUNCATED_MIN = 5  # shortest cut-off reference word read as the start of an invoice number


@lru_cache(maxsize=16384)
def payer_key(name: str) -> str:
    """A payer name as learned aliases key it (a statement repeats its payers)."""
    return normalize(name) if name.strip() else ""


SPELLING_MIN = 85  # letters-only likeness of a misspelt name to the customer's


def spelled_like(names: NameIndex, payer: str, customer_id: int) -> bool:
    """Whether the payer name is the customer's name misspelt ("Gkeko SA" for "Gekko SA",
    "Ollivande rInc"), rather than another firm sharing a word with it ("Acme Plumbing
    Services" beside "Acme Corporation"): alike letter for letter, spaces aside."""
    name = names.normal.get(customer_id, "").replace(" ", "")
    mine = normalize(payer).replace(" ", "")
    if not (name and mine):
        return False
    if fuzz.ratio(mine, name) >= SPELLING_MIN:
        return True
    # A typo inside the legal suffix ("Tyrell mGbH" for "Tyrell GmbH") hides it from
    # normalize: compare the whole names too.
    whole = names.by_id[customer_id].name.casefold()
    return fuzz.ratio(_letters(payer.casefold()), _letters(whole)) >= SPELLING_MIN


SPELLING_MARGIN = 5  # how much nearer the one misspelt name must be than the next


def spelled_whole(names: NameIndex, payer: str, customers: Iterable[int]) -> int | None:
    """The one customer whose whole name (legal suffix and number too) the payer name
    spells with a slip, clearly nearer than any other's: "Massiev BV" is Massive BV, not
    Massive Inc. The payer must write the whole name, at most a letter short: "MASSIEV" is
    nearer to "Massive BV" than to "Massive GmbH" only because BV is short."""
    mine = _letters(payer.casefold())
    whole = {c: _letters(names.by_id[c].name.casefold()) for c in customers}
    scored = sorted(((fuzz.ratio(mine, w), c) for c, w in whole.items()), reverse=True)
    if not scored or scored[0][0] < SPELLING_MIN or len(mine) < len(whole[scored[0][1]]) - 1:
        return None
    if len(scored) > 1 and scored[1][0] > scored[0][0] - SPELLING_MARGIN:
        return None
    return scored[0][1]


def _letters(text: str) -> str:
    return "".join(ch for ch in text if ch.isalnum())


def shares_word(names: NameIndex, payer: str, customer_id: int) -> bool:
    """Whether the payer name has a word of the customer's name (letters only, three or
    more): another firm sharing it ("Dunder Bakery" beside "Dunder Mifflin") reads alike."""
    theirs = {w for w in names.normal.get(customer_id, "").split() if len(w) >= 3 and w.isalpha()}
    return any(w in theirs for w in normalize(payer).split())


LIKE_WORD = 75  # likeness of two words of letters, one misspelt ("Zrog" for "Zorg")


def names_alike(names: NameIndex, payer: str, customer_id: int) -> bool:
    """Whether the payer name has a word of letters like one of the customer's name's. A
    number the two share is no likeness ("CONTOSO TREASURY 784" is not "Initech Ltd 784"):
    numbers in names tell apart firms of one name, they do not name one by themselves."""
    theirs = [w for w in names.normal.get(customer_id, "").split() if w.isalpha()]
    if not theirs:
        return True  # a name of numbers only is matched by its numbers
    mine = [w for w in payer_key(payer).split() if len(w) >= 3 and w.isalpha()]
    return any(fuzz.ratio(m, t) >= LIKE_WORD for m in mine for t in theirs)


def number_keys(text: str | None) -> set[str]:
    """The spellings of an invoice number that a reference can carry: its digits without
    leading zeros ("INV-001234" -> "1234", "2026-0042" -> "20260042"), and for numbers with
    letters the letters and digits without the INV prefix ("INV-A17" -> "A17")."""
    if not text:
        return set()
    keys = {"".join(_DIGITS.findall(text)).lstrip("0")}
    compact = _compact(text)
    if compact and not compact.isdigit():
        keys.add(compact)
    return {k for k in keys if len(k) >= 2}


_SEP = "\x00"
_NOT_DIGIT_OR_SEP = re.compile(r"[^\d\x00]+")
_NOT_ALNUM_OR_SEP = re.compile(r"[^A-Z0-9\x00]+")
_PREFIX_AFTER_SEP = re.compile(r"(?:^|(?<=\x00))(?:INVOICE|INV)(?:NO|NR)?")


def number_forms(texts: Sequence[str]) -> tuple[list[tuple[str, ...]], list[str]]:
    """`number_keys` of each text (as a tuple) and its compact form (`compact_number`):
    each regular expression runs once over all the texts joined, since a ledger's hundreds
    of thousands of numbers cost seconds one regex call at a time."""
    if not texts:
        return [], []
    joined = _SEP.join(texts)
    if joined.count(_SEP) != len(texts) - 1:  # a number holding the separator
        return [tuple(number_keys(t)) for t in texts], [_compact(t) for t in texts]
    digits = _NOT_DIGIT_OR_SEP.sub("", joined).split(_SEP)
    flats = _PREFIX_AFTER_SEP.sub("", _NOT_ALNUM_OR_SEP.sub("", joined.upper())).split(_SEP)
    keys_out: list[tuple[str, ...]] = []
    compacts: list[str] = []
    for text, digit, flat in zip(texts, digits, flats, strict=True):
        numeric = flat.isdigit()
        compacts.append(flat.lstrip("0") if numeric else flat)
        if not text:
            keys_out.append(())
            continue
        digit = digit.lstrip("0")
        keys: tuple[str, ...] = (digit,) if len(digit) >= 2 else ()
        if flat and not numeric and len(flat) >= 2 and flat != digit:
            keys += (flat,)
        keys_out.append(keys)
    return keys_out, compacts


_NOT_ALNUM = re.compile(r"[^A-Z0-9]")
_PREFIX = re.compile(r"^(?:INVOICE|INV)(?:NO|NR)?")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_RUNS = re.compile(r"\d+(?:[-/]\d+)*")


def _compact(text: str) -> str:
    """Letters and digits only, upper case, without an INV/INVOICE/NO prefix."""
    flat = _PREFIX.sub("", _NOT_ALNUM.sub("", text.upper()))
    return flat.lstrip("0") if flat.isdigit() else flat


_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
# Numbers a reference carries that are no invoice's: dates ("2026-11-30", "30.11.2026",
# "11/30/2026"), a month's year ("Nov 2026", "2026 November") and amounts ("1,234.00").
_NOT_INVOICE = re.compile(
    r"\b\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b"
    r"|\b\d{1,2}[./-]\d{1,2}[./-](?:\d{4}|\d{2})\b"
    rf"|\b{_MONTH}[\s-]*'?(?:19|20)?\d{{2}}\b|\b(?:19|20)\d{{2}}[\s-]+{_MONTH}(?![a-z])"
    r"|(?<![\w.,])\d{1,3}(?:[,.']\d{3})*[.,]\d{2}(?![\w.,])"
    r"|(?<![\w.,])\d+[.,]\d{2}(?![\w.,])",
    re.IGNORECASE,
)


def reference_keys(reference: str) -> list[str]:
    """Invoice-number candidates in a bank reference (see `_reference_keys`)."""
    return list(_reference_keys(reference))


@lru_cache(maxsize=16384)
def _reference_keys(reference: str) -> tuple[str, ...]:
    """Invoice-number candidates in a bank reference, in the order written: digit runs
    joined by - or / ("2026-0042" -> "20260042") and each run alone ("1234/1235"), without
    leading zeros, and words that mix letters and digits ("INV-A17" -> "A17", also with the
    digits after a space: "C003671 014"). Dates, a month's year and amounts are skipped."""
    reference = _NOT_INVOICE.sub(" ", reference)
    keys: list[str] = []

    def add(key: str) -> None:
        if len(key) >= 2 and key not in keys:
            keys.append(key)

    for token in _RUNS.findall(reference):
        groups = token.replace("/", "-").split("-")
        for key in ["".join(groups).lstrip("0"), *(g.lstrip("0") for g in groups)]:
            add(key)
    raw = _WORD.findall(reference)
    for n, compact in enumerate(_compact(w) for w in raw):
        if compact and not compact.isdigit() and any(ch.isdigit() for ch in compact):
            add(compact)
            # "C003671 014": a number written with a space inside
            if n + 1 < len(raw) and raw[n + 1].isdigit():
                add(compact + raw[n + 1])
    return tuple(keys)


def compact_words(reference: str) -> list[str]:
    """Each word of the reference in the compact form invoice numbers are keyed by."""
    return [_compact(w) for w in _WORD.findall(reference)]


def compact_number(text: str | None) -> str:
    return _compact(text or "")
