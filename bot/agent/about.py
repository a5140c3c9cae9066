"""What a question and a tool result are about, as ledger ids: the agent's test of relevance.

A tool result is posted for a question that names customers, invoices or segments only when
it is about one of them: the same customer id, invoice id or segment, never a name that
merely reads alike ("Umbrella Ltd" inside "Umbrella Ltd Holdings", INV-1 inside INV-12). The
question's names come from the one name lookup (`named_in`, `find_invoices`: exact), a
result's from the arguments its tool resolved and the ids it returned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from db.customers import CustomerName, segments
from db.invoices import find_invoices
from db.models import Customer
from tools.action_model import ActionInfo
from tools.customer_detail import CustomerDetail
from tools.customer_lookup import Named, named_in, resolve_customer
from tools.customers import CustomerBalance
from tools.cuts import CutReport
from tools.deps import ToolDeps
from tools.errors import ToolInputError

# An invoice reference: letters, a separator and a digit ("INV-G3", "in_1Mx2"), or a number
# after the word invoice ("invoice 1042"); each is looked up exactly.
INVOICE_REF = re.compile(r"\b[A-Za-z]+[-_#](?=[\w-]*\d)[\w-]+\b|(?<=\binvoice\s)#?\d[\w-]*", re.I)
MAX_REFS = 10


@dataclass(frozen=True)
class About:
    customers: frozenset[int] = frozenset()  # internal ids
    invoices: frozenset[int] = frozenset()
    segments: frozenset[str] = frozenset()  # casefolded

    def __bool__(self) -> bool:
        return bool(self.customers or self.invoices or self.segments)

    def meets(self, other: About) -> bool:
        return bool(
            self.customers & other.customers
            or self.invoices & other.invoices
            or self.segments & other.segments
        )


@dataclass(frozen=True)
class Asked:
    """What a question names: `named` for the deterministic answer, `about` to test results
    (a named invoice brings its customer along)."""

    named: Named
    about: About = field(default_factory=About)


def asked(deps: ToolDeps, question: str) -> Asked:
    with deps.sessions() as session:
        named = named_in(session, question)
        refs = INVOICE_REF.findall(question)[:MAX_REFS]
        invoices = [
            i for ref in refs if len(found := find_invoices(session, ref)) == 1 for i in found
        ]
        # A named invoice names its customer too: "INV-G3?" is answered with Globex Corp.
        have = {n.id for n in named.customers}
        owners = [
            CustomerName(c.id, c.name, c.external_id)
            for cid in dict.fromkeys(i.customer_id for i in invoices)
            if cid not in have and (c := session.get(Customer, cid)) is not None
        ]
        named = Named([*named.customers, *owners], named.segments)
    return Asked(
        named,
        About(
            customers=frozenset(
                {c.id for c in named.customers} | {i.customer_id for i in invoices}
            ),
            invoices=frozenset(i.id for i in invoices),
            segments=frozenset(s.casefold() for s in named.segments),
        ),
    )


def _customer(session: Session, query: Any) -> set[int]:
    if not isinstance(query, str) or not query.strip():
        return set()
    try:
        return {resolve_customer(session, query).id}
    except ToolInputError:
        return set()


def of_call(deps: ToolDeps, args: BaseModel, result: BaseModel) -> About:
    """The customers, invoices and segments one tool call was about: its resolved arguments
    and the ids its result carries. Ledger-wide results are about none."""
    values = args.model_dump()
    customers: set[int] = set()
    invoices: set[int] = set()
    wanted: set[str] = set()
    with deps.sessions() as session:
        customers |= _customer(session, values.get("customer"))
        ref = values.get("invoice")
        if isinstance(ref, str) and len(found := find_invoices(session, ref)) == 1:
            invoices.add(found[0].id)
            customers.add(found[0].customer_id)
        if isinstance(values.get("segment"), str):
            wanted.add(values["segment"].casefold())
        if isinstance(result, CutReport) and result.by == "segment":
            wanted |= {g.casefold() for g in result.groups}
        if isinstance(result, CustomerDetail):
            customers |= _customer(session, result.customer_id)
    if isinstance(result, CustomerBalance):
        customers.add(result.customer_id)
    if isinstance(result, ActionInfo):
        customers.add(result.customer_id)
        if result.invoice_id is not None:
            invoices.add(result.invoice_id)
    return About(frozenset(customers), frozenset(invoices), frozenset(wanted))


def segment_names(deps: ToolDeps) -> list[str]:
    with deps.sessions() as session:
        return list(segments(session))


def known_segment(deps: ToolDeps, name: str) -> bool:
    with deps.sessions() as session:
        return name.casefold() in {s.casefold() for s in segments(session)}
