"""Customers: lookups by id and name, the facts a risk scan or a draft needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from db.models import Customer, Invoice


def get_customer(session: Session, customer_id: int) -> Customer | None:
    return session.get(Customer, customer_id)


def customer_ids_in_segment(session: Session, segment: str) -> list[int]:
    query = select(Customer.id).where(func.lower(Customer.segment) == segment.lower())
    return list(session.execute(query).scalars())


class CustomerFacts(NamedTuple):  # one per customer in a risk scan: a tuple is cheaper
    id: int
    external_id: str
    name: str
    segment: str | None
    currency: str
    credit_limit_minor: int | None
    owner_slack_id: str | None


def customer_facts(
    session: Session, ids: Sequence[int] | None = None, segment: str | None = None
) -> dict[int, CustomerFacts]:
    query = select(
        Customer.id,
        Customer.external_id,
        Customer.name,
        Customer.segment,
        Customer.currency,
        Customer.credit_limit_minor,
        Customer.owner_slack_id,
    )
    if ids is not None:
        query = query.where(Customer.id.in_(ids))
    if segment is not None:
        query = query.where(func.lower(Customer.segment) == segment.lower())
    return {row[0]: CustomerFacts(*row) for row in session.connection().execute(query)}


def customer_segments(session: Session) -> dict[int, str | None]:
    """Every customer's segment: the one fact a grouping of all customers needs."""
    rows = session.connection().execute(select(Customer.id, Customer.segment)).all()
    return {int(cid): segment for cid, segment in rows}


def do_not_dun_customers(session: Session) -> set[int]:
    return set(session.execute(select(Customer.id).where(Customer.do_not_dun.is_(True))).scalars())


@dataclass(frozen=True)
class CustomerName:
    id: int
    name: str
    external_id: str


def customer_names(session: Session) -> list[CustomerName]:
    rows = session.execute(select(Customer.id, Customer.name, Customer.external_id))
    return [CustomerName(int(i), str(n), str(e)) for i, n, e in rows]


def customer_name(session: Session, customer_id: int) -> CustomerName | None:
    row = session.execute(
        select(Customer.id, Customer.name, Customer.external_id).where(Customer.id == customer_id)
    ).first()
    return None if row is None else CustomerName(int(row[0]), str(row[1]), str(row[2]))


def segments(session: Session) -> list[str]:
    """The distinct segment names on record, as stored."""
    query = select(Customer.segment).where(Customer.segment.is_not(None)).distinct()
    return sorted(str(s) for s in session.execute(query).scalars() if s)


def stood_for(session: Session, ids: Sequence[int]) -> set[int]:
    """Of these customers, those whose invoices are all shadowed (db.links): another source's
    customer of the same name holds the rows that count."""
    query = (
        select(Invoice.customer_id)
        .where(Invoice.customer_id.in_(list(ids)))
        .group_by(Invoice.customer_id)
        .having(func.min(case((Invoice.shadowed, 1), else_=0)) == 1)
    )
    return {int(c) for c in session.execute(query).scalars()}
