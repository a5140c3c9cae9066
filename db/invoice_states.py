"""Each invoice's state at a cut-off, per source: what reconciliation compares.

One row per invoice issued before the cut-off, with its open amount there (the formula of
db.open_amounts) and a status: void or written off when that happened before the cut-off,
paid when nothing is left open, open otherwise. Settled invoices skip the open-amount
subqueries, which keeps a million-invoice source to one pass over the table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
    case,
    func,
    insert,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.orm import aliased
from sqlalchemy.schema import CreateTable, DropTable

from db.models import Customer, Invoice, Payment
from db.open_amounts import applied_since, open_amount_at


class InvoiceState(NamedTuple):
    source: str
    external_id: str
    number: str | None
    customer: str
    issued_at: datetime
    total_minor: int
    open_minor: int
    status: str
    # Whose invoice it counts as when matched by number: the Stripe invoice's customer for a
    # books row carrying a Stripe invoice id (the id links across spellings, as db.links
    # does); else None, its own customer.
    link_customer: str | None = None


def _stripe_twin(twin: Any) -> Any:
    """`twin` is the Stripe invoice, of its currency, whose id the books row carries."""
    return and_(
        twin.source == "stripe",
        twin.external_id == Invoice.stripe_ref,
        twin.currency == Invoice.currency,
    )


def _link_customer() -> Any:
    """The customer name a row is matched under: that of the Stripe invoice whose id a books
    row carries (of its currency), else its own, as the ledger links them (db.links)."""
    twin, owner = aliased(Invoice), aliased(Customer)
    name = (
        select(owner.name)
        .join(twin, twin.customer_id == owner.id)
        .where(_stripe_twin(twin))
        .scalar_subquery()
    )
    return case(
        (Invoice.stripe_ref.is_(None), Customer.name), else_=func.coalesce(name, Customer.name)
    )


def _number() -> Any:
    """The number an invoice is compared by: a books row carrying a Stripe invoice id of its
    currency takes that Stripe invoice's number, as the ledger links them (db.links). A
    subquery only for the few rows that carry one, so the scan stays one pass."""
    twin = aliased(Invoice)
    number = select(twin.number).where(_stripe_twin(twin)).scalar_subquery()
    return case(
        (Invoice.stripe_ref.is_(None), Invoice.number),
        else_=func.coalesce(number, Invoice.number),
    )


def _state_columns(cut: datetime) -> tuple[Any, Any]:
    """(open amount, status) of an invoice at the cut-off."""
    settled_before = Invoice.settled_at.is_not(None) & (Invoice.settled_at < cut)
    status = case(
        (Invoice.voided_at.is_not(None) & (Invoice.voided_at < cut), literal("void")),
        (
            Invoice.written_off_at.is_not(None) & (Invoice.written_off_at < cut),
            literal("written_off"),
        ),
        (settled_before, literal("paid")),
        else_=literal("open"),
    )
    open_minor = case((settled_before, literal(0)), else_=open_amount_at(cut))
    return open_minor, status


def _states_query(cut: datetime, currency: str, sources: list[str] | None) -> Select[Any]:
    open_minor, status = _state_columns(cut)
    query = (
        select(
            Invoice.source,
            Invoice.external_id,
            _number().label("number"),
            Customer.name.label("customer"),
            Invoice.issued_at,
            Invoice.total_minor,
            open_minor.label("open_minor"),
            status.label("status"),
        )
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(Invoice.issued_at < cut, Invoice.currency == currency)
    )
    if sources:
        query = query.where(Invoice.source.in_(sources))
    return query


# The states of one comparison, computed once and read three times (AR per source, the numbers
# that differ, the rows to compare); a temporary table per database connection.
_meta = MetaData()
_STATES = Table(
    "reconcile_states",
    _meta,
    Column("id", Integer),
    Column("source", String),
    Column("k", String),
    Column("total_minor", BigInteger),
    Column("open_minor", BigInteger),
    Column("status", String),
    prefixes=["TEMPORARY"],
)


def states_to_compare(
    conn: Connection, *, cut: datetime, currency: str, sources: list[str]
) -> tuple[dict[str, int], list[InvoiceState]]:
    """(open total per source, the invoices a comparison must look at): those without a
    number, and those whose number is not held exactly once by every source with one total,
    open amount and status. Invoices that agree everywhere, nearly all of them, stay in SQL.

    Agreement is read with MIN = MAX and a count per source rather than COUNT(DISTINCT ...),
    which keeps a sorter per group and doubles the grouping of two million rows."""
    _open, status = _state_columns(cut)
    # The open-amount formula of db.open_amounts with what was applied on or after the cut
    # summed once per invoice (few rows, recent ones) and joined, rather than looked up by
    # two subqueries for each of a million unsettled invoices.
    recent = applied_since(cut)
    late = (
        select(recent.c.invoice_id, func.sum(recent.c.amount_minor).label("amount"))
        .group_by(recent.c.invoice_id)
        .subquery("late")
    )
    settled_before = Invoice.settled_at.is_not(None) & (Invoice.settled_at < cut)
    open_minor = case(
        (settled_before, literal(0)),
        else_=Invoice.total_minor - Invoice.applied_minor + func.coalesce(late.c.amount, 0),
    )
    conn.execute(DropTable(_STATES, if_exists=True))
    conn.execute(CreateTable(_STATES))
    keyed = (
        select(
            Invoice.id,
            Invoice.source,
            func.trim(_number()),
            Invoice.total_minor,
            open_minor,
            status,
        )
        .outerjoin(late, late.c.invoice_id == Invoice.id)
        .where(Invoice.issued_at < cut, Invoice.currency == currency, Invoice.source.in_(sources))
    )
    conn.execute(insert(_STATES).from_select([c.name for c in _STATES.c], keyed))
    if conn.dialect.name == "postgresql":
        # Statistics, and room to hash two million numbers in memory rather than in batches.
        conn.execute(text("ANALYZE reconcile_states"))
        conn.execute(text("SET LOCAL work_mem = '256MB'"))
    st = _STATES.c
    # One sum per source in one scan: a GROUP BY would sort two million rows for two groups.
    sums = conn.execute(
        select(*(func.sum(case((st.source == s, st.open_minor))) for s in sources))
    ).one()
    ar = {s: int(total) for s, total in zip(sources, sums, strict=True) if total is not None}
    live = st.status != literal("void")

    def differ(col: Any) -> Any:
        return func.min(col) != func.max(col)

    differing = (
        select(st.k)
        .where(st.k != "")
        .group_by(st.k)
        .having(
            or_(
                func.count() != len(sources),
                *(func.sum(case((st.source == s, 1), else_=0)) != 1 for s in sources),
                differ(st.status),
                differ(case((live, st.total_minor))),
                differ(case((live, st.open_minor))),
            )
        )
    )
    picked = conn.execute(
        select(st.id, st.source, st.total_minor, st.open_minor, st.status).where(
            or_(st.k.is_(None), st.k == "", st.k.in_(differing))
        )
    ).all()
    conn.execute(DropTable(_STATES))
    # The ledger's columns of those few rows by id, apart: joined in the query above, the
    # planners expect most of two million rows to pass and read the whole invoice table.
    about = _by_id(conn, [int(row[0]) for row in picked])
    found = []
    for i, source, total, open_, status in sorted(picked, key=lambda row: int(row[0])):
        ext, number, customer, issued_at, link = about[int(i)]  # in the ledger's order
        found.append(
            InvoiceState(source, ext, number, customer, issued_at, total, open_, status, link)
        )
    return ar, found


def _by_id(conn: Connection, ids: list[int]) -> dict[int, tuple[Any, Any, Any, Any, Any]]:
    """invoice id -> (external id, compared number, customer name, issued at, link customer)."""
    query = select(
        Invoice.id,
        Invoice.external_id,
        _number(),
        Customer.name,
        Invoice.issued_at,
        _link_customer(),
    ).join(Customer, Customer.id == Invoice.customer_id)
    found: dict[int, tuple[Any, Any, Any, Any, Any]] = {}
    if conn.dialect.name == "postgresql":
        parts = [query.where(Invoice.id == any_(bindparam("ids", ids, type_=ARRAY(Integer))))]
    else:
        parts = [query.where(Invoice.id.in_(ids[i : i + 500])) for i in range(0, len(ids), 500)]
    for part in parts if ids else []:
        found.update((int(row[0]), tuple(row[1:])) for row in conn.execute(part))
    return found


class BankReceipt(NamedTuple):
    """A bank payment applied to an invoice, with that invoice's state."""

    payment_external_id: str
    amount_minor: int
    invoice: InvoiceState
    currency: str


def bank_receipts(
    conn: Connection, *, cut: datetime, currency: str, sources: list[str]
) -> list[BankReceipt]:
    """Succeeded payments of source `bank` dated before the cut-off, on invoices of `sources`."""
    bank = aliased(Payment)  # not the payments the open-amount subquery sums
    st = _states_query(cut, currency, sources).add_columns(bank.external_id, bank.amount_minor)
    query = st.join(bank, bank.invoice_id == Invoice.id).where(
        bank.source == "bank", bank.status == "succeeded", bank.paid_at < cut
    )
    return [
        BankReceipt(str(row[-2]), int(row[-1]), InvoiceState(*row[:-2]), currency)
        for row in conn.execute(query.order_by(bank.external_id))
    ]


def books_rows(
    conn: Connection, *, cut: datetime, currency: str, source: str, numbers: list[str],
    totals: list[int],
) -> list[tuple[InvoiceState, list[int]]]:  # fmt: skip
    """The invoices of `source` a bank receipt's invoice may be (same number, or same total),
    each with the amounts of the payments its own source recorded on it before the cut-off."""
    key = func.trim(_number())
    query = _states_query(cut, currency, [source]).add_columns(Invoice.id)
    query = query.where(or_(key.in_(numbers), Invoice.total_minor.in_(totals)))
    found = [(InvoiceState(*row[:-1]), int(row[-1])) for row in conn.execute(query)]
    paid = conn.execute(
        select(Payment.invoice_id, Payment.amount_minor).where(
            Payment.invoice_id.in_([i for _, i in found]),
            Payment.source == source,
            Payment.status == "succeeded",
            Payment.paid_at < cut,
        )
    )
    amounts: dict[int, list[int]] = {}
    for invoice_id, amount in paid:
        amounts.setdefault(int(invoice_id or 0), []).append(int(amount))
    return [(state, amounts.get(i, [])) for state, i in found]


def in_other_currencies(
    conn: Connection, *, cut: datetime, currency: str, sources: list[str], numbers: list[str]
) -> list[tuple[InvoiceState, str]]:
    """Invoices of `sources` numbered like one of `numbers` in a currency other than
    `currency`, with that currency: where a row missing from a comparison may be instead.

    Each part of `numbers` reads every invoice in another currency, so a ledger holding none
    (most hold one currency) is told by one probe of the issue-date index first."""
    others = select(Invoice.id).where(
        Invoice.issued_at < cut, Invoice.currency != currency, Invoice.source.in_(sources)
    )
    if not numbers or conn.execute(others.limit(1)).first() is None:
        return []
    open_minor, status = _state_columns(cut)
    number = _number()
    query = (
        select(
            Invoice.source,
            Invoice.external_id,
            number,
            Customer.name,
            Invoice.issued_at,
            Invoice.total_minor,
            open_minor,
            status,
            Invoice.currency,
        )
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(Invoice.issued_at < cut, Invoice.currency != currency)
        .where(Invoice.source.in_(sources))
    )
    found: list[tuple[InvoiceState, str]] = []
    for i in range(0, len(numbers), 5000):
        part = query.where(func.trim(number).in_(numbers[i : i + 5000]))
        found += [(InvoiceState(*row[:-1]), str(row[-1])) for row in conn.execute(part)]
    return found
