"""Which customer a person means: the one lookup every answer, draft and button uses.

Order: an exact external id, an exact internal id, an exact name (any case), then a fuzzy
name ("acme", "Acme Inc", "acmee"). A clear fuzzy winner is "found"; several names within a
few points of each other are "ambiguous", and the caller asks "which one?" instead of
guessing, so "Acme" is the same customer in a balance, a detail, a reminder and a write-off.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field
from rapidfuzz import fuzz, process
from sqlalchemy.orm import Session

from db.customers import customer_names
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


def normalize(name: str) -> str:
    words = re.findall(r"[a-z0-9]+", name.casefold().replace("'s", ""))
    kept = [w for w in words if w not in _SUFFIXES]
    return " ".join(kept or words)


def match_customer(session: Session, query: str) -> CustomerMatch:
    names = customer_names(session)
    wanted = query.strip()
    folded = wanted.casefold()
    for exact in (
        [c for c in names if c.external_id == wanted],
        [c for c in names if wanted.isdigit() and c.id == int(wanted)],
        [c for c in names if c.name.casefold() == folded],
    ):
        if len(exact) == 1:
            c = exact[0]
            found = CustomerCandidate(
                customer_id=c.id, name=c.name, external_id=c.external_id, score=100
            )
            return CustomerMatch(query=query, status="found", candidates=[found])
    if not folded:
        return CustomerMatch(query=query, status="none")
    by_id = {c.id: c for c in names}
    hits = process.extract(
        normalize(wanted),
        {c.id: normalize(c.name) for c in names},
        scorer=fuzz.WRatio,
        limit=MAX_CANDIDATES * 4,
        score_cutoff=CANDIDATE_SCORE,
    )
    if not hits:
        return CustomerMatch(query=query, status="none")
    top = hits[0][1]
    close = [h for h in hits if h[1] >= top - TIE_MARGIN]
    candidates = [
        CustomerCandidate(
            customer_id=cid,
            name=by_id[cid].name,
            external_id=by_id[cid].external_id,
            score=round(score, 1),
        )
        for _, score, cid in close[:MAX_CANDIDATES]
    ]
    found_one = len(close) == 1 and top >= FOUND_SCORE
    return CustomerMatch(
        query=query, status="found" if found_one else "ambiguous", candidates=candidates
    )


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
