"""Which customer a person means: the one lookup every answer, draft and button uses.

Order: an exact external id, an exact internal id, an exact name (any case), then a fuzzy
name ("acme", "Acme Inc", "acmee"). A clear fuzzy winner is "found"; several names within a
few points of each other are "ambiguous", and the caller asks "which one?" instead of
guessing, so "Acme" is the same customer in a balance, a detail, a reminder and a write-off.
"""

from __future__ import annotations

import re
from functools import cached_property, lru_cache
from typing import Literal, NamedTuple

from pydantic import BaseModel, Field
from rapidfuzz import fuzz, process
from sqlalchemy.orm import Session

from db.customers import (
    CustomerName,
    customer_ids_in_segment,
    customer_names,
    segments,
    stood_for,
)
from db.models import Customer
from tools.errors import ToolInputError

_SUFFIXES = {
    "inc", "incorporated", "llc", "ltd", "limited", "gmbh", "sa", "kk", "bv", "group",
    "corp", "corporation", "co", "company", "plc", "ag", "the",
}  # fmt: skip
FOUND_SCORE = 85
CANDIDATE_SCORE = 70
TIE_MARGIN = 5
MAX_CANDIDATES = 5
LARGE_INDEX = 1000


class CustomerCandidate(BaseModel):
    customer_id: int
    name: str
    external_id: str
    score: float


class CustomerMatch(BaseModel):
    query: str
    status: Literal["found", "ambiguous", "none"]
    candidates: list[CustomerCandidate] = Field(default_factory=list)


class CustomerNotFound(ToolInputError):
    pass


class CustomerAmbiguous(ToolInputError):
    def __init__(self, message: str, match: CustomerMatch) -> None:
        super().__init__(message)
        self.match = match


_WORDS = re.compile(r"[a-z0-9]+")


def normalize(name: str) -> str:
    words = _WORDS.findall(name.casefold().replace("'s", ""))
    kept = [w for w in words if w not in _SUFFIXES]
    return " ".join(kept or words)


def _candidate(c: CustomerName, score: float) -> CustomerCandidate:
    return CustomerCandidate(
        customer_id=c.id, name=c.name, external_id=c.external_id, score=round(score, 1)
    )


def _match(query: str, found: list[CustomerName], scores: list[float]) -> CustomerMatch:
    """One candidate is "found"; several are "ambiguous", so the caller asks which one."""
    candidates = [_candidate(c, s) for c, s in zip(found, scores, strict=True)]
    status: Literal["found", "ambiguous"] = "found" if len(found) == 1 else "ambiguous"
    return CustomerMatch(query=query, status=status, candidates=candidates[:MAX_CANDIDATES])


def match_customer(session: Session, query: str) -> CustomerMatch:
    return one_per_customer(session, NameIndex(customer_names(session)).match(query))


def one_per_customer(session: Session, match: CustomerMatch) -> CustomerMatch:
    """Several sources' customers of one name (same_customer) are one customer: the one
    whose invoices the figures count stands for the others, so "Acme Corp" held by Stripe
    and QuickBooks is asked about once, and its balance and payments are counted once."""
    if match.status != "ambiguous" or len(match.candidates) < 2:
        return match
    from tools.ledger_record import same_customer  # the linking rule; it imports the ledger

    keys = {c.customer_id: same_customer(c.name) for c in match.candidates}
    if len(set(keys.values())) == len(keys):
        return match
    gone = stood_for(session, list(keys))
    kept = [
        c
        for c in match.candidates
        if c.customer_id not in gone
        or all(
            o.customer_id in gone
            for o in match.candidates
            if keys[o.customer_id] == keys[c.customer_id]
        )
    ]
    one = len(kept) == 1 and kept[0].score >= FOUND_SCORE  # a weak guess stays a question
    status: Literal["found", "ambiguous"] = "found" if one else "ambiguous"
    return match.model_copy(update={"status": status, "candidates": kept})


class NameIndex:
    """The customers' names prepared once, for callers that look up many names (a bank
    statement's payers) with the same rules as a single question.

    The steps read dictionaries instead of scanning every name; only the fuzzy step scans,
    and past LARGE_INDEX names it scores only the names with a word whose first BLOCK letters
    are those of a query word's with at most one typo (near_starts), those alike in every
    such word when there are any: a full fuzzy pass over 70,000 names costs 0.15 s a lookup.
    """

    def __init__(self, names: list[CustomerName]) -> None:
        self.names = names
        self.by_id = {c.id: c for c in names}
        self.normal = {c.id: normalize(c.name) for c in names}
        self.by_external: dict[str, list[CustomerName]] = {}
        self.by_folded_external: dict[str, list[CustomerName]] = {}
        self.by_folded_name: dict[str, list[CustomerName]] = {}
        self._alike: dict[str, set[int]] = {}  # a query word's start -> names alike in it
        for c in names:
            self.by_external.setdefault(c.external_id, []).append(c)
            self.by_folded_external.setdefault(c.external_id.casefold(), []).append(c)
            self.by_folded_name.setdefault(c.name.casefold(), []).append(c)

    @cached_property
    def position(self) -> dict[int, int]:
        """Where each customer stands in `names`: candidates are listed in that order."""
        return {c.id: n for n, c in enumerate(self.names)}

    @cached_property
    def by_word(self) -> dict[str, set[int]]:
        out: dict[str, set[int]] = {}
        for cid, name in self.normal.items():
            for word in name.split():
                out.setdefault(word, set()).add(cid)
        return out

    @cached_property
    def by_start(self) -> dict[str, set[int]]:
        out: dict[str, set[int]] = {}
        for word, ids in self.by_word.items():
            out.setdefault(word[:BLOCK], set()).update(ids)
        return out

    def _shortlist(self, words: list[str]) -> set[int]:
        """The names with a word like each query word that has any (one word alike is a
        weak hint on a ledger where thousands of names share it); the names alike in any
        word when none is alike in all."""
        per_word = []
        for w in words:
            found = self._alike.get(w[: BLOCK + 1])
            if found is None:
                keys = near_starts(w[: BLOCK + 1])
                found = self._alike[w[: BLOCK + 1]] = set().union(
                    *(self.by_start.get(k, set()) for k in keys)
                )
            if found:
                per_word.append(found)
        if not per_word:
            return set()
        every = set.intersection(*per_word)
        return every if every else set().union(*per_word)

    def match(self, query: str) -> CustomerMatch:
        wanted = query.strip()
        folded = wanted.casefold()
        if not folded:
            return CustomerMatch(query=query, status="none")
        # Exact first; an exact reference shared by two customers (external ids are unique
        # per source only) is asked back, never passed on to a looser step.
        by_id = self.by_id.get(int(wanted)) if wanted.isdigit() else None
        for exact in (
            self.by_external.get(wanted, []),
            [by_id] if by_id is not None else [],
            self.by_folded_name.get(folded, []),
        ):
            if exact:
                return _match(query, exact, [100] * len(exact))
        # Then an external id in another case, and the names the words of the query stand in
        # ("acme" in "Acme Corp" and "Acme Holdings"): with two such customers a reminder
        # must not pick one by spelling distance.
        key = normalize(wanted)
        words = key.split()
        holders = set.intersection(*(self.by_word.get(w, set()) for w in words)) if words else set()
        near_ids = {c.id for c in self.by_folded_external.get(folded, [])} | {
            cid for cid in holders if f" {key} " in f" {self.normal[cid]} "
        }
        if near_ids:
            near = [self.by_id[i] for i in sorted(near_ids, key=self.position.__getitem__)]
            return _match(query, near, [100] * len(near))
        choices = self.normal
        if len(self.names) > LARGE_INDEX:
            choices = {cid: self.normal[cid] for cid in self._shortlist(words)}
        hits = process.extract(
            key,
            choices,
            scorer=fuzz.WRatio,
            limit=MAX_CANDIDATES * 4,
            score_cutoff=CANDIDATE_SCORE,
        )
        if not hits:
            return CustomerMatch(query=query, status="none")
        top = hits[0][1]
        close = [h for h in hits if h[1] >= top - TIE_MARGIN]
        if len(close) == 1 and top < FOUND_SCORE:
            only = self.by_id[close[0][2]]
            return CustomerMatch(
                query=query, status="ambiguous", candidates=[_candidate(only, top)]
            )
        found = [self.by_id[cid] for _, _, cid in close]
        return _match(query, found, [score for _, score, _ in close])


BLOCK = 4  # letters of a word's start that the fuzzy step's shortlist compares
_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"


@lru_cache(maxsize=65536)
def near_starts(word: str) -> frozenset[str]:
    """The starts of BLOCK letters a word's start could be with one typo: a letter wrong,
    missing or extra, or two swapped ("amce" for "acme"). About 250 keys to look up: much
    cheaper than scoring every name."""
    start = word[:BLOCK]
    if start.isdigit():
        # A number in a name ("Wayne Group 1234") is copied, not misspelt: its own start,
        # or the numbers it begins.
        tails = "0123456789" if len(start) < BLOCK else ""
        return frozenset({start, *(start + d for d in tails)})
    out = {start}
    for i in range(len(start) + 1):
        for ch in _LETTERS:
            out.add((start[:i] + ch + start[i:])[:BLOCK])  # a letter missing
            if i < len(start):
                out.add(start[:i] + ch + start[i + 1 :])  # a letter wrong
        if i < len(start):
            out.add((start[:i] + start[i + 1 :] + word[BLOCK : BLOCK + 1])[:BLOCK])  # extra
        if i + 1 < len(start):
            out.add(start[:i] + start[i + 1] + start[i] + start[i + 2 :])  # swapped
    return frozenset(out)


def resembles(index: NameIndex, query: str, customer_id: int, score: int = CANDIDATE_SCORE) -> bool:
    """Whether `query` reads like this customer's name: by default close enough for the
    lookup to offer it as a candidate; with FOUND_SCORE, close enough to name it."""
    name = index.normal.get(customer_id, "")
    return bool(name) and fuzz.WRatio(normalize(query), name) >= score


def resolve_customer(session: Session, query: str | int) -> Customer:
    """The one customer `query` names; CustomerNotFound / CustomerAmbiguous say what to do.

    An int is an internal id a button carries (never typed by a person), looked up as that.
    """
    if isinstance(query, int):
        by_id = session.get(Customer, query)
        if by_id is None:
            raise CustomerNotFound(f"no customer with id {query}")
        return by_id
    if not query.strip():
        raise CustomerNotFound("customer is empty: give a customer name or id")
    match = match_customer(session, query)
    if match.status == "none":
        raise CustomerNotFound(
            f"no customer matches {query.strip()!r}: check the spelling or give the customer id"
        )
    if match.status == "ambiguous":
        names = ", ".join(f"{c.name} (id {c.external_id})" for c in match.candidates)
        raise CustomerAmbiguous(
            f"{query.strip()!r} matches several customers: {names}; which one do you mean?",
            match,
        )
    customer = session.get(Customer, match.candidates[0].customer_id)
    assert customer is not None
    return customer


class Scope(NamedTuple):
    """Which customers a question is about: `ids` None means all of them."""

    ids: list[int] | None
    label: str
    customer: Customer | None


def scope_of(session: Session, customer: str | None, segment: str | None) -> Scope:
    """One customer, one segment, both (the customer if in the segment), or everyone."""
    ids: list[int] | None = None
    label, found = "all customers", None
    if customer:
        found = resolve_customer(session, customer)
        ids, label = [found.id], f"customer {found.name}"
    if segment:
        in_segment = customer_ids_in_segment(session, segment)
        if not in_segment:
            raise ToolInputError(f"no customers in segment {segment!r}")
        ids = in_segment if ids is None else [i for i in ids if i in set(in_segment)]
        label = f"segment {segment}" if not customer else f"{label}, {segment}"
    return Scope(ids, label, found)


def _by_whole_name(found: list[CustomerName], said: str) -> list[CustomerName]:
    """Of names alike once their suffixes are set aside ("Acme Inc", "Acme GmbH"), those the
    text spells out whole; all of them when it spells out none ("Acme")."""
    groups: dict[str, list[CustomerName]] = {}
    for c in found:
        groups.setdefault(normalize(c.name), []).append(c)
    out: list[CustomerName] = []
    for alike in groups.values():
        whole = [c for c in alike if f" {' '.join(_WORDS.findall(c.name.casefold()))} " in said]
        out += whole if len(alike) > 1 and whole else alike
    return out


class Named(NamedTuple):
    """The customers and segments a sentence names by their words."""

    customers: list[CustomerName]
    segments: list[str]


def named_in(session: Session, text: str) -> Named:
    """Every customer whose name (suffixes aside: "Zorg" for "Zorg LLC") and every segment
    ("enterprise", "mid-market") the words of `text` contain; for answering a question that
    names one without having to guess where the name starts.

    Where one name's words lie inside another's that `text` also holds ("Umbrella Ltd" in
    "Umbrella Ltd Holdings"), only the longer is named there: a name counts where it is not
    part of a longer one. Of names alike but for their suffix, the one spelt out whole wins."""
    words = f" {normalize(text)} "
    spans: dict[int, list[tuple[int, int]]] = {}
    by_id: dict[int, CustomerName] = {}
    for c in customer_names(session):
        if len(key := normalize(c.name)) >= 3 and f" {key} " in words:
            found = re.finditer(rf"(?<= ){re.escape(key)}(?= )", words)
            spans[c.id] = [(m.start(), m.end()) for m in found]
            by_id[c.id] = c
    every = [(cid, s) for cid, ss in spans.items() for s in ss]

    def inside(span: tuple[int, int], cid: int) -> bool:
        return any(
            o != cid and a <= span[0] and span[1] <= b and (b - a) > (span[1] - span[0])
            for o, (a, b) in every
        )

    customers = [by_id[cid] for cid, ss in spans.items() if any(not inside(s, cid) for s in ss)]
    said_whole = f" {' '.join(_WORDS.findall(text.casefold().replace(chr(39) + 's', '')))} "
    customers = _by_whole_name(customers, said_whole)
    said = [
        s
        for s in segments(session)
        if (key := normalize(s)) and re.search(rf"(?<!\w){re.escape(key)}s?(?!\w)", words)
    ]
    return Named(customers, said)
