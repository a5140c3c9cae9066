"""Bank lines as a card or a list shows them: the line, what was decided, and the current
suggestion with the customer's name and the invoices' numbers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel, Field

from db import bank as bank_db
from db.bank_models import BankTxnStatus
from db.books_payments import BooksWrite, books_writes
from db.invoices import open_invoices
from tools.books_payment import books_label
from tools.cash_apply import current_suggestion
from tools.cash_match import suggestion_key
from tools.cash_suggest import suggestions
from tools.clock import day_cut, today
from tools.customer_lookup import normalize
from tools.deps import ToolDeps
from tools.errors import ToolInputError
from tools.money import MoneyError, format_money, parse_typed_amount, to_major


class ShownBooks(BaseModel):
    """Where recording an applied line in an accounting system stands."""

    books: str  # as people name them, e.g. "Xero"
    status: str  # the write's action status: approved, executing, done, failed
    note: str | None  # once done: what the books received
    error: str | None


class ShownAllocation(BaseModel):
    invoice: str  # the number people know it by
    amount_minor: int


class ShownLine(BaseModel):
    txn_id: int
    statement: str
    booked_on: date
    amount_minor: int
    currency: str
    payer_name: str
    reference: str
    status: str
    decided_by: str | None
    applied_how: str | None
    customer: str | None  # the suggested (or applied) customer's name
    confidence: float | None
    allocation_currency: str
    allocations: list[ShownAllocation]
    unapplied_minor: int
    reasons: list[str]
    suggestion_key: str = ""  # what the Apply button promises (tools.cash_match)
    books: list[ShownBooks] = Field(default_factory=list)  # an applied line's writes to the books


class OpenChoice(BaseModel):
    invoice_id: int
    label: str


def shown_lines(deps: ToolDeps, txn_ids: Sequence[int] | None = None) -> list[ShownLine]:
    """The lines (default: every one not applied, those a person left unapplied too: the
    money came in and sits on no invoice), with suggestions for those still open."""
    s = deps.settings
    with deps.sessions() as session:
        waiting = (BankTxnStatus.UNAPPLIED, BankTxnStatus.LEFT)
        status = None if txn_ids is not None else waiting
        lines = bank_db.txns(session, ids=txn_ids, status=status)
        open_lines = [t for t in lines if t.status == BankTxnStatus.UNAPPLIED]
        found = suggestions(session, s, today(s.tz), open_lines) if open_lines else {}
        customers = {sug.customer_id for sug in found.values() if sug} | {
            t.customer_id for t in lines if t.customer_id is not None
        }
        names = {k: v[1] for k, v in bank_db.customer_refs(session, sorted(customers)).items()}
        invoice_ids = {a.invoice_id for sug in found.values() if sug for a in sug.allocations}
        numbers = bank_db.invoice_numbers(session, sorted(invoice_ids))
        writes = books_writes(session, [t.id for t in lines if t.status == BankTxnStatus.APPLIED])
    out = []
    for t in lines:
        sug = found.get(t.id)
        customer_id = sug.customer_id if sug else t.customer_id
        out.append(
            ShownLine(
                txn_id=t.id,
                statement=t.statement,
                booked_on=t.booked_on,
                amount_minor=t.amount_minor,
                currency=t.currency,
                payer_name=t.payer_name,
                reference=t.reference,
                status=t.status,
                decided_by=t.decided_by,
                applied_how=t.applied_how,
                customer=names.get(customer_id) if customer_id is not None else None,
                confidence=round(sug.confidence, 2) if sug else None,
                allocation_currency=sug.currency if sug else t.currency,
                allocations=[
                    ShownAllocation(invoice=numbers[a.invoice_id], amount_minor=a.amount_minor)
                    for a in (sug.allocations if sug else ())
                ],
                unapplied_minor=sug.unapplied_minor if sug else 0,
                reasons=list(sug.reasons) if sug else [],
                suggestion_key=suggestion_key(sug) if sug else "",
                books=[_books(w) for w in writes.get(t.id, ())],
            )
        )
    return out


def _books(w: BooksWrite) -> ShownBooks:
    return ShownBooks(books=books_label(w.source), status=w.status, note=w.note, error=w.error)


def open_choices(deps: ToolDeps, txn_id: int) -> tuple[str | None, list[OpenChoice]]:
    """The suggested customer's name and open invoices, for the "Choose invoices" form."""
    s = deps.settings
    txn, sug = current_suggestion(deps, txn_id)
    if sug is None:
        return None, []
    with deps.sessions() as session:
        cut = day_cut(max(today(s.tz), txn.booked_on), s.tz)
        rows = open_invoices(session, cut, customer_ids=[sug.customer_id])
        name = bank_db.customer_refs(session, [sug.customer_id])[sug.customer_id][1]
    return name, [
        OpenChoice(
            invoice_id=r.invoice_id,
            label=f"{r.number or r.external_id}: {format_money(r.open_minor, r.currency)} open, "
            f"due {r.due_on}",
        )
        for r in rows[:100]
    ]


class FindReceiptsInput(BaseModel):
    amount: str | None = Field(
        None, description="the amount received as typed, e.g. '12,400', '12.4k', 'EUR 12.400,00'"
    )
    payer: str | None = Field(None, description="who paid: a customer or the bank's payer name")


class ReceiptSearch(BaseModel):
    amount: str | None
    payer: str | None
    lines: list[ShownLine]


def find_receipts(deps: ToolDeps, args: FindReceiptsInput) -> ReceiptSearch:
    """Bank credits not applied yet that fit the amount and payer, with their suggestions.
    An amount that cannot be read is refused, never dropped from the search."""
    wanted = None
    if args.amount and args.amount.strip():
        try:
            wanted = parse_typed_amount(args.amount)
        except MoneyError as exc:
            raise ToolInputError(str(exc)) from None
    payer = normalize(args.payer or "")
    found = []
    for line in shown_lines(deps):
        if wanted is not None and (
            to_major(line.amount_minor, line.currency) != wanted.value
            or wanted.currency not in (None, line.currency)
        ):
            continue
        names = f" {normalize(line.payer_name)} {normalize(line.customer or '')} "
        if payer and f" {payer} " not in names:
            continue
        found.append(line)
    said = None
    if wanted is not None:
        said = " ".join(p for p in (wanted.currency, f"{wanted.value:,}") if p)
    return ReceiptSearch(amount=said, payer=args.payer, lines=found)
