"""What a person names when applying a bank line by hand: the line, the customer and the
invoices with amounts, looked up with the same rules as every other surface."""

from __future__ import annotations

from collections.abc import Sequence

from db import bank as bank_db
from db.invoices import open_invoices
from tools.cash_apply import CashRefused
from tools.cash_match import Allocation
from tools.clock import day_cut, today
from tools.customer_lookup import resolve_customer
from tools.deps import ToolDeps
from tools.errors import ToolInputError
from tools.invoice_lookup import resolve_invoice
from tools.money import MoneyError, parse_major


def resolve_txn(deps: ToolDeps, ref: str, account: str | None = None) -> int:
    """The line by the bank's id as `cash match` shows it (within `account` when several
    accounts used it); arbot's own id only when no bank id reads so, since a bank's ids
    are often small numbers too."""
    ref = ref.strip()
    with deps.sessions() as session:
        found = bank_db.txns_by_ref(session, ref, account)
        if len(found) > 1:
            accounts = ", ".join(t.account for t in found)
            raise CashRefused(
                f"bank line {ref!r} is in several accounts ({accounts}): give --account"
            )
        if found:
            return found[0].id
        own = bank_db.get_txn(session, int(ref)) if ref.isdigit() and account is None else None
        if own is None:
            where = f" in account {account!r}" if account else ""
            raise CashRefused(f"no bank line {ref!r}{where}")
        return own.id


def resolve_choice(
    deps: ToolDeps, txn_id: int, customer: str | None, invoices: Sequence[str]
) -> tuple[int, list[Allocation]]:
    """(customer id, allocations) from "INVOICE" or "INVOICE=AMOUNT" words; an invoice
    without an amount takes its open amount."""
    s = deps.settings
    with deps.sessions() as session:
        txn = bank_db.get_txn(session, txn_id)
        if txn is None:
            raise CashRefused(f"bank line {txn_id} does not exist")
        try:
            picked = [resolve_invoice(session, _invoice_ref(word)) for word in invoices]
            customer_id = (
                resolve_customer(session, customer).id if customer else picked[0].customer_id
            )
        except (ToolInputError, IndexError) as exc:
            raise CashRefused(str(exc) or "name the customer or an invoice") from None
        cut = day_cut(max(today(s.tz), txn.booked_on), s.tz)
        open_now = {
            r.invoice_id: r for r in open_invoices(session, cut, customer_ids=[customer_id])
        }
    out = []
    for word, inv in zip(invoices, picked, strict=True):
        row = open_now.get(inv.id)
        if row is None:
            raise CashRefused(f"{word.partition('=')[0]} is not an open invoice of that customer")
        amount_text = word.partition("=")[2].strip()
        try:
            amount = parse_major(amount_text, inv.currency) if amount_text else row.open_minor
        except MoneyError as exc:
            raise CashRefused(f"{word}: {exc}") from None
        out.append(Allocation(inv.id, amount))
    return customer_id, out


def _invoice_ref(word: str) -> str | int:
    """An internal id ("id:42") is what a form's option carries; anything else was typed."""
    ref = word.partition("=")[0].strip()
    return int(ref[3:]) if ref.startswith("id:") and ref[3:].isdigit() else ref
