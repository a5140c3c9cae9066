"""QuickBooks Online objects (v3 JSON, as the API returns them) to ledger staging rows.

Pure functions: no I/O. An object that cannot be read raises `Malformed` naming the field, so
the sync reports it and goes on with the rest of the page.

How QuickBooks' documents become ledger rows:
- Invoice: one invoice. A voided invoice comes back with zero amounts and the private note
  "Voided": it is kept, voided at its last update, so it counts nowhere.
- Payment: its `Line[]` apply amounts to documents through `LinkedTxn`. Credit memo lines are
  credits applied to the payment's invoice lines (in line order); what of each invoice line
  the credits do not cover is cash. `UnappliedAmt` is unapplied cash on the customer. Rows are
  keyed by payment and document, so re-reading an edited payment updates them in place.
- CreditMemo: its `RemainingCredit` is credit the customer still holds (reported beside AR
  like unapplied cash); the part applied arrives with the payment that applied it.
- A bad-debt credit memo (private note starting with `BAD_DEBT_NOTE`, as arbot writes them
  back) applied to an invoice is bad debt: covering what the invoice owed then, its
  write-off, dated at the application (bad debt % counts it, credit sales do not shrink);
  smaller, a credit of its amount (tools.books_apply decides). Its remaining credit is
  nobody's cash: kept at zero, as the marker that tells the memo is bad debt.
Amounts are exact (tools.books_fields.minor).
"""

from __future__ import annotations

import functools
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
    bounded_id,
    minor,
    stripe_invoice_id,
)
from tools.books_fields import maybe as _opt
from tools.books_fields import need as _get
from tools.money import is_currency

REQUEST_ID_MAX = 50  # Intuit refuses a longer `requestid`


def request_id(key: str, step: str = "") -> str:
    """The QuickBooks request id of `key` (+ `step`, which write of it): at most 50 characters."""
    return bounded_id(key, step, REQUEST_ID_MAX)


__all__ = ["BAD_DEBT_METHOD", "BAD_DEBT_NOTE", "Malformed", "Obj", "minor"]

SOURCE = "quickbooks"


def obj_id(obj: Obj) -> str:
    value = obj.get("Id") if isinstance(obj, dict) else None
    if value in (None, ""):
        raise Malformed("Id is missing")
    return str(value)


def _day(value: Any, name: str) -> date:
    try:
        return _iso_day(str(value))
    except ValueError as exc:
        raise Malformed(f"{name} {value!r} is not a date (YYYY-MM-DD)") from exc


# Documents share few dates and update times (a year has 365 days; a page's objects often
# changed in the same second), so each distinct text is parsed once.
@functools.lru_cache(maxsize=4096)
def _iso_day(text: str) -> date:
    return date.fromisoformat(text)


@functools.lru_cache(maxsize=4096)
def _instant(raw: str) -> datetime:
    try:
        at = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise Malformed(f"MetaData.LastUpdatedTime {raw!r} is not a timestamp") from exc
    if at.tzinfo is None:
        raise Malformed(f"MetaData.LastUpdatedTime {raw!r} has no offset")
    return at.astimezone(UTC)


@functools.lru_cache(maxsize=4096)
def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tz).astimezone(UTC)


def updated_at(obj: Obj) -> datetime:
    """MetaData.LastUpdatedTime, which orders and resumes the sync."""
    return _instant(str(_get(obj, "MetaData", "LastUpdatedTime")))


@dataclass(frozen=True)
class Mapper:
    """The company time zone (dates become its midnight) and the home currency, which
    QuickBooks leaves out of single-currency companies' documents."""

    tz: ZoneInfo
    home_currency: str = "USD"

    def _currency(self, obj: Obj) -> str:
        code = str(_opt(obj, "CurrencyRef", "value") or self.home_currency).upper()
        if not is_currency(code):
            raise Malformed(f"CurrencyRef.value {code!r} is not an ISO 4217 currency")
        return code

    def _at(self, day: date) -> datetime:
        return _midnight(day, self.tz)

    def customer(self, c: Obj) -> Obj:
        cid = obj_id(c)
        email = _opt(c, "PrimaryEmailAddr", "Address")
        name = c.get("DisplayName") or c.get("CompanyName") or email or cid
        return {
            "external_id": cid,
            "name": str(name),
            "email": email,
            "ap_email": email,
            "segment": None,
            "payment_terms_days": None,
            "currency": self._currency(c),
            "credit_limit_minor": None,
            "owner_slack_id": None,
        }

    def invoice(self, inv: Obj) -> Obj:
        iid = obj_id(inv)
        currency = self._currency(inv)
        issued = _day(_get(inv, "TxnDate"), "TxnDate")
        due_raw = inv.get("DueDate")
        voided = str(inv.get("PrivateNote") or "").startswith("Voided")
        return {
            "external_id": iid,
            "customer_ext": str(_get(inv, "CustomerRef", "value")),
            "number": inv.get("DocNumber"),
            "currency": currency,
            "total_minor": minor(_get(inv, "TotalAmt"), currency, "TotalAmt"),
            "issued_at": self._at(issued),
            "due_on": _day(due_raw, "DueDate") if due_raw else issued,
            "voided_at": updated_at(inv) if voided else None,
            "written_off_at": None,
            "payment_url": None,
            "stripe_ref": stripe_invoice_id(
                inv.get("PrivateNote"),
                *(
                    f.get("StringValue")
                    for f in inv.get("CustomField") or []
                    if isinstance(f, dict)
                ),
            ),
        }

    def credit_memo(self, cm: Obj) -> Obj:
        """The credit the customer still holds, as an unapplied payment row."""
        cid = obj_id(cm)
        currency = self._currency(cm)
        return {
            "external_id": f"creditmemo:{cid}",
            "customer_ext": str(_get(cm, "CustomerRef", "value")),
            "invoice_ext": None,
            "amount_minor": 0
            if is_bad_debt(cm)
            else minor(_get(cm, "RemainingCredit"), currency, "RemainingCredit"),
            "currency": currency,
            "paid_at": self._at(_day(_get(cm, "TxnDate"), "TxnDate")),
            "status": "succeeded",
            "method": BAD_DEBT_METHOD if is_bad_debt(cm) else "credit_memo",
            "failure_reason": None,
        }

    def payment(self, p: Obj, bad_debt: frozenset[str] = frozenset()) -> Applied:
        """The rows of one Payment; `bad_debt`: ids of bad-debt credit memos."""
        pid = obj_id(p)
        currency = self._currency(p)
        customer = str(_get(p, "CustomerRef", "value"))
        paid_at = self._at(_day(_get(p, "TxnDate"), "TxnDate"))
        invoices: list[tuple[str, int]] = []
        credits: list[tuple[str, int]] = []
        lines = p.get("Line") or []
        if not isinstance(lines, list):
            raise Malformed("Line is not a list")
        for n, line in enumerate(lines):
            amount = minor(_get(line, "Amount"), currency, f"Line[{n}].Amount")
            for link in line.get("LinkedTxn") or []:
                kind, txn = link.get("TxnType"), link.get("TxnId")
                if not txn:
                    raise Malformed(f"Line[{n}].LinkedTxn.TxnId is missing")
                if kind == "Invoice":
                    invoices.append((str(txn), amount))
                elif kind == "CreditMemo":
                    credits.append((str(txn), amount))
        base = {"customer_ext": customer, "currency": currency, "paid_at": paid_at}
        out = Applied()
        for invoice, amount in invoices:
            cash = amount
            while cash and credits:
                memo, left = credits[0]
                used = min(cash, left)
                key = f"{pid}:creditmemo:{memo}:{invoice}"
                if memo in bad_debt:
                    out.bad_debts.append(BadDebt(invoice, paid_at, used, currency, key))
                else:
                    out.credit_notes.append(
                        {
                            "external_id": key,
                            "invoice_ext": invoice,
                            "amount_minor": used,
                            "currency": currency,
                            "issued_at": paid_at,
                        }
                    )
                cash -= used
                credits[0] = (memo, left - used)
                if credits[0][1] == 0:
                    credits.pop(0)
            out.payments.append(base | _paid(f"{pid}:{invoice}", invoice, cash))
        unapplied = minor(p.get("UnappliedAmt") or 0, currency, "UnappliedAmt")
        if unapplied:
            out.payments.append(base | _paid(f"{pid}:unapplied", None, unapplied))
        return out


def is_bad_debt(credit_memo: Obj) -> bool:
    return str(credit_memo.get("PrivateNote") or "").startswith(BAD_DEBT_NOTE)


def memo_ids(p: Obj) -> set[str]:
    """The credit memos a Payment applies (to look up which are bad debt)."""
    lines = p.get("Line") if isinstance(p, dict) else None
    return {
        str(link.get("TxnId"))
        for line in (lines if isinstance(lines, list) else [])
        if isinstance(line, dict)
        for link in line.get("LinkedTxn") or []
        if isinstance(link, dict) and link.get("TxnType") == "CreditMemo"
    }


@dataclass
class Applied:
    """What one Payment puts in the ledger."""

    payments: list[Obj] = field(default_factory=list)
    credit_notes: list[Obj] = field(default_factory=list)
    bad_debts: list[BadDebt] = field(default_factory=list)


def _paid(external_id: str, invoice: str | None, amount_minor: int) -> Obj:
    return {
        "external_id": external_id,
        "invoice_ext": invoice,
        "amount_minor": amount_minor,
        "status": "succeeded",
        "method": "quickbooks",
        "failure_reason": None,
    }
