"""`arbot cash match`: every bank credit booked by the as-of date with its best suggestion.

The book (open invoices at the as-of date, customer names, learned payer aliases) is read
once per run; tools.cash_match decides each line.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from db import bank as bank_db
from db.bank_models import BankTxn, BankTxnStatus
from db.customers import customer_names
from db.invoices import open_amounts, settled_between
from tools.answer_cache import cached
from tools.cash_book import Ledger, index_ledger
from tools.cash_match import Book, OpenInv, Receipt, Suggestion, suggest
from tools.clock import AsOfDate, day_cut, today
from tools.cross_rates import convert_at, rate_between
from tools.customer_lookup import NameIndex
from tools.deps import ToolDeps
from tools.gc_pause import gc_paused
from tools.money import format_major
from tools.settings import Settings


class AllocationOut(BaseModel):
    invoice_id: str = Field(description="the invoice's import id")
    amount: str


class SuggestionOut(BaseModel):
    customer_id: str = Field(description="the customer's import id")
    confidence: float
    allocations: list[AllocationOut]
    reasons: list[str]


class TxnOut(BaseModel):
    bank_txn_id: str
    booked_on: date
    amount: str
    currency: str
    payer_name: str
    reference: str
    status: Literal["suggested", "unmatched", "applied"]
    suggestion: SuggestionOut | None


class CashMatchInput(BaseModel):
    as_of: AsOfDate | None = Field(None, description="end-of-day date; today if empty")


class CashMatch(BaseModel):
    as_of: date
    transactions: list[TxnOut]


# How far back a paid invoice still makes a credit of its amount look like a second payment.
SETTLED_DAYS = 60


def matching_ledger(session: Session, settings: Settings, as_of: date) -> Ledger:
    """The open invoices at the as-of date and those settled in the SETTLED_DAYS before,
    indexed for matching: read and built once per ledger version (tools.answer_cache), so a
    second statement, a card's Apply and a list of unapplied cash reuse it."""
    cut = day_cut(as_of, settings.tz)
    since = day_cut(as_of - timedelta(days=SETTLED_DAYS), settings.tz)

    def build() -> Ledger:
        invoices = [OpenInv(*row) for row in open_amounts(session, cut)]
        return index_ledger(invoices, settled_between(session, since, cut))

    return cached(session, ("cash ledger", cut, since), build, large=True)


def build_book(session: Session, settings: Settings, as_of: date) -> Book:

    rates: dict[tuple[str, str, date], Decimal | None] = {}

    def convert(amount: int, source: str, target: str, on: date) -> tuple[int, Decimal] | None:
        key = (source, target, on)
        if key not in rates:
            rates[key] = rate_between(session, source, target, on, settings.reporting_currency)
        rate = rates[key]
        return None if rate is None else (convert_at(amount, source, target, rate), rate)

    return Book(
        ledger=matching_ledger(session, settings, as_of),
        names=NameIndex(customer_names(session)),
        aliases=bank_db.aliases(session),
        fee_tolerance=settings.cash_fee_tolerance,
        convert=convert,
    )


def receipt(txn: BankTxn) -> Receipt:
    return Receipt(
        txn.id, txn.booked_on, txn.amount_minor, txn.currency, txn.payer_name, txn.reference
    )


def suggestions(
    session: Session, settings: Settings, as_of: date, txns: list[BankTxn]
) -> dict[int, Suggestion | None]:
    return _suggest_all(session, settings, as_of, txns)[1]


def _suggest_all(
    session: Session, settings: Settings, as_of: date, txns: list[BankTxn]
) -> tuple[Book, dict[int, Suggestion | None]]:
    with gc_paused():  # the book and the suggestions hold no reference cycles
        book = build_book(session, settings, as_of)
        return book, {t.id: suggest(book, receipt(t)) for t in txns}


def cash_match(deps: ToolDeps, args: CashMatchInput) -> CashMatch:
    s = deps.settings
    as_of = args.as_of or today(s.tz)
    with deps.sessions() as session:
        lines = [
            t
            for t in bank_db.txns(session, booked_before=_next(as_of))
            if t.status != BankTxnStatus.LEFT
        ]
        open_lines = [t for t in lines if t.status == BankTxnStatus.UNAPPLIED]
        book, found = _suggest_all(session, s, as_of, open_lines)
        refs = _import_ids(session, book, found)
    # Built without validation: every field is ours and already typed, and validating a
    # statement's 10,000 rows of three nested models costs about half a second.
    out = []
    for t in lines:
        sug = found.get(t.id)
        status: Literal["suggested", "unmatched", "applied"] = (
            "applied" if t.status == BankTxnStatus.APPLIED else "suggested" if sug else "unmatched"
        )
        out.append(
            TxnOut.model_construct(
                bank_txn_id=t.external_id,
                booked_on=t.booked_on,
                amount=format_major(t.amount_minor, t.currency),
                currency=t.currency,
                payer_name=t.payer_name,
                reference=t.reference,
                status=status,
                suggestion=None if sug is None else _out(sug, refs),
            )
        )
    return CashMatch(as_of=as_of, transactions=out)


def _next(day: date) -> date:
    return day + timedelta(days=1)


def _import_ids(
    session: Session, book: Book, found: dict[int, Suggestion | None]
) -> dict[str, dict[int, str]]:
    """The import ids of the suggested customers and invoices, from the book that holds
    them (a statement's thousands of ids read back by id cost a second); any it lacks from
    the database."""
    customers: dict[int, str] = {}
    invoices: dict[int, str] = {}
    for s in found.values():
        if s is None:
            continue
        known = book.names.by_id.get(s.customer_id)
        if known is not None:
            customers[s.customer_id] = known.external_id
        if s.allocations:
            theirs = {i.invoice_id: i.external_id for i in book.by_customer.get(s.customer_id, ())}
            invoices.update(
                (a.invoice_id, theirs[a.invoice_id])
                for a in s.allocations
                if a.invoice_id in theirs
            )
    missing = {s.customer_id for s in found.values() if s} - customers.keys()
    customers.update({k: v[0] for k, v in bank_db.customer_refs(session, sorted(missing)).items()})
    lacking = {a.invoice_id for s in found.values() if s for a in s.allocations} - invoices.keys()
    invoices.update(bank_db.invoice_refs(session, sorted(lacking)))
    return {"customer": customers, "invoice": invoices}


def _out(s: Suggestion, refs: dict[str, dict[int, str]]) -> SuggestionOut:
    return SuggestionOut.model_construct(
        customer_id=refs["customer"][s.customer_id],
        confidence=round(s.confidence, 2),
        allocations=[
            AllocationOut.model_construct(
                invoice_id=refs["invoice"][a.invoice_id],
                amount=format_major(a.amount_minor, s.currency),
            )
            for a in s.allocations
        ],
        reasons=list(s.reasons),
    )
