"""Xero Accounting objects (JSON, as the API returns them) to ledger staging rows.

Pure functions: no I/O. An object that cannot be read raises `Malformed` naming the field, so
the sync reports it and goes on with the rest of the page (tools.books_fields).

How Xero's documents become ledger rows, as the accountants read the AR ledger:
- Contact: a customer. A supplier that has never been a customer is not one (`None`).
- Invoice (Type ACCREC): DRAFT and SUBMITTED are not posted, so not receivables: skipped
  (`None`); AUTHORISED and PAID are; VOIDED and DELETED are kept voided at their last update,
  so they count nowhere.
- Payment (ACCRECPAYMENT): cash on its invoice; DELETED puts it to zero.
- CreditNote (ACCRECCREDIT): each allocation is a credit on its invoice, dated at the
  allocation; `RemainingCredit` is credit the customer still holds (reported beside AR like
  unapplied cash). One whose Reference starts with BAD_DEBT_NOTE (as arbot writes write-offs
  back) is bad debt: an allocation covering what its invoice owed then writes it off, a
  smaller one is a credit of its amount (tools.books_apply); its remaining credit is nobody's
  cash and counts nowhere.
- Overpayment / Prepayment (RECEIVE-*): cash received; each allocation is a payment of its
  invoice, `RemainingCredit` is unapplied cash.
Every row of a document is keyed "DOCUMENT-ID:..." so that re-reading an edited, voided or
deleted document zeroes the rows it does not map to any more (books_apply.zero_dropped).
Dates: Xero writes `/Date(epoch-ms+offset)/` (the spec's x-is-msdate) or ISO 8601; a document
date is the company's calendar day, placed at its midnight in ARBOT_TZ.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from tools.books_fields import (
    BAD_DEBT_METHOD,
    BAD_DEBT_NOTE,
    BadDebt,
    Malformed,
    Obj,
    maybe,
    minor,
    need,
    stripe_invoice_id,
)
from tools.money import is_currency

SOURCE = "xero"
METHOD = "xero"
POSTED = frozenset({"AUTHORISED", "PAID"})
NOT_POSTED = frozenset({"DRAFT", "SUBMITTED"})
GONE = frozenset({"VOIDED", "DELETED"})
ID_FIELDS = {
    "Contacts": "ContactID",
    "Invoices": "InvoiceID",
    "CreditNotes": "CreditNoteID",
    "Payments": "PaymentID",
    "Overpayments": "OverpaymentID",
    "Prepayments": "PrepaymentID",
}
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def parse_time(value: Any, name: str) -> datetime:
    """A Xero timestamp, `/Date(1541176290160+0000)/` or ISO 8601 (UTC when it has no offset)."""
    text = str(value)
    found = _MS_DATE.match(text)
    try:
        if found:
            return datetime.fromtimestamp(int(found.group(1)) / 1000, UTC)
        at = datetime.fromisoformat(text)
    except (ValueError, OverflowError, OSError) as exc:
        raise Malformed(f"{name} {value!r} is not a date") from exc
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def parse_day(value: Any, name: str) -> date:
    """A document date: Xero sends the day at midnight UTC, so the UTC calendar day."""
    try:
        return _day(str(value))
    except Malformed as exc:
        raise Malformed(f"{name} {value!r} is not a date") from exc


@functools.lru_cache(maxsize=4096)
def _day(text: str) -> date:
    """Documents share few dates (a year is 365), so each is parsed once."""
    return parse_time(text, "date").date()


@functools.lru_cache(maxsize=4096)
def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz).astimezone(UTC)


def updated_at(obj: Obj) -> datetime:
    return parse_time(need(obj, "UpdatedDateUTC"), "UpdatedDateUTC")


def stamp(at: datetime) -> str:
    """The cursor's form of an update time: UTC to the millisecond, as Xero keeps it."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds")


def obj_id(entity: str, obj: Any) -> str:
    key = ID_FIELDS[entity]
    value = obj.get(key) if isinstance(obj, dict) else None
    if value in (None, ""):
        raise Malformed(f"{key} is missing")
    return str(value)


@dataclass
class Mapped:
    """What one document puts in the ledger."""

    rows: list[tuple[str, Obj]] = field(default_factory=list)  # (stage, row)
    bad_debts: list[BadDebt] = field(default_factory=list)


@dataclass(frozen=True)
class Mapper:
    """The company time zone (dates become its midnight) and the base currency, for the
    rare object that leaves its currency out."""

    tz: ZoneInfo
    home_currency: str = "USD"

    def _currency(self, obj: Obj, *path: str) -> str:
        code = str(maybe(obj, *(path or ("CurrencyCode",))) or self.home_currency).upper()
        if not is_currency(code):
            raise Malformed(f"{'.'.join(path or ('CurrencyCode',))} {code!r} is not a currency")
        return code

    def _at(self, day: date) -> datetime:
        return _midnight(day, self.tz)

    def _date(self, obj: Obj, name: str = "Date") -> datetime:
        return self._at(parse_day(need(obj, name), name))

    def map(self, entity: str, obj: Obj) -> Mapped:
        if not isinstance(obj, dict):
            raise Malformed(f"not an object: {type(obj).__name__}")
        handler = getattr(self, f"_{entity.lower()}")
        return handler(obj)  # type: ignore[no-any-return]

    def _contacts(self, c: Obj) -> Mapped:
        cid = obj_id("Contacts", c)
        if c.get("IsSupplier") is True and c.get("IsCustomer") is False:
            return Mapped()
        email = c.get("EmailAddress") or None
        row = {
            "external_id": cid,
            "name": str(c.get("Name") or email or cid),
            "email": email,
            "ap_email": email,
            "segment": None,
            "payment_terms_days": None,
            "currency": self._currency(c, "DefaultCurrency"),
            "credit_limit_minor": None,
            "owner_slack_id": None,
        }
        return Mapped(rows=[("customers", row)])

    def _invoices(self, inv: Obj) -> Mapped:
        iid = obj_id("Invoices", inv)
        kind, status = inv.get("Type"), str(need(inv, "Status"))
        if kind != "ACCREC":
            raise Malformed(f"Type {kind!r} is not a sales invoice (ACCREC)")
        if status in NOT_POSTED:
            return Mapped()
        if status not in POSTED | GONE:
            raise Malformed(f"Status {status!r} is not an invoice status")
        currency = self._currency(inv)
        issued = parse_day(need(inv, "Date"), "Date")
        due = inv.get("DueDate")
        row = {
            "external_id": iid,
            "customer_ext": str(need(inv, "Contact", "ContactID")),
            "number": inv.get("InvoiceNumber") or None,
            "currency": currency,
            "total_minor": minor(need(inv, "Total"), currency, "Total"),
            "issued_at": self._at(issued),
            "due_on": parse_day(due, "DueDate") if due else issued,
            "voided_at": updated_at(inv) if status in GONE else None,
            "written_off_at": None,
            "payment_url": None,
            "stripe_ref": stripe_invoice_id(inv.get("Reference")),
        }
        return Mapped(rows=[("invoices", row)])

    def _payments(self, p: Obj) -> Mapped:
        pid = obj_id("Payments", p)
        if p.get("PaymentType", "ACCRECPAYMENT") != "ACCRECPAYMENT":
            raise Malformed(f"PaymentType {p.get('PaymentType')!r} is not a customer payment")
        invoice = str(need(p, "Invoice", "InvoiceID"))
        currency = self._currency(p, "Invoice", "CurrencyCode")
        deleted = p.get("Status") == "DELETED"
        amount = 0 if deleted else minor(need(p, "Amount"), currency, "Amount")
        row = _paid(f"{pid}:{invoice}", invoice, amount) | {
            "customer_ext": str(need(p, "Invoice", "Contact", "ContactID")),
            "currency": currency,
            "paid_at": self._date(p),
        }
        return Mapped(rows=[("payments", row)])

    def _creditnotes(self, cn: Obj) -> Mapped:
        cid = obj_id("CreditNotes", cn)
        if cn.get("Type") != "ACCRECCREDIT":
            raise Malformed(f"Type {cn.get('Type')!r} is not a sales credit note (ACCRECCREDIT)")
        bad_debt = str(cn.get("Reference") or "").startswith(BAD_DEBT_NOTE)
        return self._credit(cn, "CreditNotes", cid, "credit_note", bad_debt)

    def _overpayments(self, op: Obj) -> Mapped:
        return self._received(op, "Overpayments", "RECEIVE-OVERPAYMENT")

    def _prepayments(self, pp: Obj) -> Mapped:
        return self._received(pp, "Prepayments", "RECEIVE-PREPAYMENT")

    def _received(self, doc: Obj, entity: str, kind: str) -> Mapped:
        did = obj_id(entity, doc)
        if doc.get("Type") != kind:
            raise Malformed(f"Type {doc.get('Type')!r} is not {kind}")
        return self._credit(doc, entity, did, METHOD, bad_debt=False)

    def _credit(self, doc: Obj, entity: str, did: str, method: str, bad_debt: bool) -> Mapped:
        """Allocations and remaining credit of a credit note, overpayment or prepayment.
        Credit notes' allocations are credits; the others' are cash."""
        status = str(need(doc, "Status"))
        out = Mapped()
        if status in NOT_POSTED or status in GONE:
            return out  # nothing, so the rows read before go to zero
        currency = self._currency(doc)
        customer = str(need(doc, "Contact", "ContactID"))
        base = {"customer_ext": customer, "currency": currency}
        per_invoice: dict[str, tuple[int, datetime]] = {}
        allocations = doc.get("Allocations") or []
        if not isinstance(allocations, list):
            raise Malformed("Allocations is not a list")
        for n, a in enumerate(allocations):
            if not isinstance(a, dict) or a.get("IsDeleted") is True:
                continue
            invoice = str(need(a, "Invoice", "InvoiceID"))
            amount = minor(need(a, "Amount"), currency, f"Allocations[{n}].Amount")
            at = self._date(a)
            before, first = per_invoice.get(invoice, (0, at))
            per_invoice[invoice] = (before + amount, min(first, at))
        for invoice, (amount, at) in per_invoice.items():
            key = f"{did}:{invoice}"
            if bad_debt:
                out.bad_debts.append(BadDebt(invoice, at, amount, currency, key))
            elif entity == "CreditNotes":
                note = {"external_id": key, "invoice_ext": invoice, "amount_minor": amount,
                        "currency": currency, "issued_at": at}  # fmt: skip
                out.rows.append(("credit_notes", note))
            else:
                out.rows.append(("payments", base | _paid(key, invoice, amount) | {"paid_at": at}))
        remaining = minor(doc.get("RemainingCredit") or 0, currency, "RemainingCredit")
        left = _paid(f"{did}:remaining", None, remaining) | {"method": method}
        if bad_debt:  # credit nobody paid: a write-off not (yet) allocated is not cash
            left |= {"method": BAD_DEBT_METHOD, "amount_minor": 0}
        out.rows.append(("payments", base | left | {"paid_at": self._date(doc)}))
        return out


def _paid(external_id: str, invoice: str | None, amount_minor: int) -> Obj:
    return {
        "external_id": external_id,
        "invoice_ext": invoice,
        "amount_minor": amount_minor,
        "status": "succeeded",
        "method": METHOD,
        "failure_reason": None,
    }
