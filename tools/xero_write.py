"""Writing an approved write-off back to Xero: a sales credit note (ACCRECCREDIT) for the open
amount, coded to the bad-debts account, allocated to the invoice, the way Xero records bad
debt.

First Xero is asked what the invoice still owes: a proposal overtaken by a payment or credit
is cancelled, not posted. Then two calls, each with an `Idempotency-Key` derived from the
action's random request id: a retry of either, after a timeout or a lost answer, gets Xero's
first answer back instead of a second document, so the books receive the write-off once
however often the outbox tries. An allocation Xero refuses voids the note (its own key), so
no unallocated bad-debt credit is left behind. The credit note's Reference
starts with BAD_DEBT_NOTE, so the sync reads it back as this write-off, not as a credit.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import urllib3
from xero_python.exceptions import HTTPStatusException

from tools.books_fields import BAD_DEBT_NOTE, minor
from tools.books_payment import PaymentOrder, Posted
from tools.books_write import WriteOffOrder, write_off_order
from tools.deps import ToolDeps
from tools.money import to_major
from tools.xero_sync import XeroSession, need_setting


class Refused(Exception):
    """Xero refused the document (validation); retrying the same request cannot help."""


class Changed(Exception):
    """The invoice in Xero owes other than what the approved proposal wrote off: nothing stays
    posted, and the write-off is cancelled with this message for the card."""


@dataclass(frozen=True)
class WriteOffPosted:
    credit_note_id: str
    credit_note_number: str
    idempotency_keys: tuple[str, str]


def idempotency_keys(request_id: str) -> tuple[str, str, str]:
    """(create the note, allocate it, void it), from the action's random request id."""
    base = f"arbot-write-off-{request_id}"
    return f"{base}-note", f"{base}-allocate", f"{base}-void"


def _amount(minor: int, currency: str) -> Decimal:
    """The amount as the client will send it (a JSON number via float): refused outright if
    the float would not be the amount to the minor unit."""
    major = to_major(minor, currency)
    if Decimal(repr(float(major))) != major:
        raise Refused(f"{major} {currency} cannot be written exactly as a JSON number")
    return major


def post_write_off(deps: ToolDeps, order: WriteOffOrder) -> WriteOffPosted:
    """Post the note and allocate it. Xero is asked first what the invoice still owes: when
    that is not the approved amount (paid or credited since), nothing is posted (`Changed`).
    On a retry the note may already be allocated by the lost first try: that counts as done.
    A refused allocation voids the note, so no unallocated bad-debt credit stays in Xero."""
    account = need_setting(deps, "xero_bad_debt_account_code")
    session = XeroSession(deps)
    invoice_id, amount_minor, currency = (
        order.invoice_external_id, order.amount_minor, order.currency
    )  # fmt: skip
    amount, on = _amount(amount_minor, currency), order.on
    note_key, allocate_key, void_key = idempotency_keys(order.request_id)
    shown = order.invoice_label or invoice_id
    why = f"{BAD_DEBT_NOTE} of invoice {shown}, approved in Slack: {order.reason}"
    due = _amount_due(session, invoice_id, currency)
    if due != amount_minor and not order.retry:
        raise Changed(_changed(shown, due, amount_minor, currency))
    note = {
        "Type": "ACCRECCREDIT",
        "Contact": {"ContactID": order.customer_external_id},
        "Date": on.isoformat(),
        "Status": "AUTHORISED",
        "LineAmountTypes": "NoTax",
        "CurrencyCode": currency,
        "Reference": f"{BAD_DEBT_NOTE} of {shown} (arbot action {order.action_id})"[:255],
        "LineItems": [
            {
                "Description": why[:4000],
                "Quantity": 1,
                "UnitAmount": amount,
                "AccountCode": account,
            }
        ],
    }
    created = _send(
        session,
        "credit note",
        lambda: session.api.create_credit_notes(
            session.tenant, {"CreditNotes": [note]}, idempotency_key=note_key,
            _preload_content=False,
        ),
    )  # fmt: skip
    made = (created.get("CreditNotes") or [{}])[0]
    if not made.get("CreditNoteID"):
        raise Refused(f"Xero answered without a credit note: {str(created)[:300]}")
    note_id = str(made["CreditNoteID"])
    number = str(made.get("CreditNoteNumber") or note_id)
    posted = WriteOffPosted(note_id, number, (note_key, allocate_key))
    if due != amount_minor:  # a retry: done if the first try allocated it, else nothing stays
        if _allocated(session, note_id, invoice_id):
            return posted
        _void(session, note_id, void_key)
        raise Changed(_changed(shown, due, amount_minor, currency) + f"; {number} was voided")
    allocation = {"Invoice": {"InvoiceID": invoice_id}, "Amount": amount,
                  "Date": on.isoformat()}  # fmt: skip
    try:
        _send(
            session,
            "allocation",
            lambda: session.api.create_credit_note_allocation(
                session.tenant, note_id, {"Allocations": [allocation]},
                idempotency_key=allocate_key, _preload_content=False,
            ),
        )  # fmt: skip
    except Refused as exc:
        _void(session, note_id, void_key)
        raise Refused(f"{exc}; credit note {number} was voided in Xero, nothing is posted") from exc
    return posted


def _changed(shown: str, due: int, proposed: int, currency: str) -> str:
    return (
        f"Xero shows {to_major(due, currency)} {currency} due on {shown}, not the "
        f"{to_major(proposed, currency)} {currency} approved (paid or credited since); "
        "propose the write-off again if it is still wanted"
    )


def _amount_due(session: XeroSession, invoice_id: str, currency: str) -> int:
    got = _send(
        session,
        "invoice",
        lambda: session.api.get_invoice(session.tenant, invoice_id, _preload_content=False),
    )
    found = (got.get("Invoices") or [{}])[0]
    if found.get("Status") not in ("AUTHORISED", "PAID"):
        return 0  # voided, deleted or back to draft: nothing to write off
    return minor(found.get("AmountDue", 0), currency, "AmountDue")


def _allocated(session: XeroSession, note_id: str, invoice_id: str) -> bool:
    got = _send(
        session,
        "credit note",
        lambda: session.api.get_credit_note(session.tenant, note_id, _preload_content=False),
    )
    found = (got.get("CreditNotes") or [{}])[0]
    return any(
        (a.get("Invoice") or {}).get("InvoiceID") == invoice_id and not a.get("IsDeleted")
        for a in found.get("Allocations") or []
    )


def _void(session: XeroSession, note_id: str, key: str) -> None:
    body = {"CreditNotes": [{"CreditNoteID": note_id, "Status": "VOIDED"}]}
    _send(
        session,
        "void of the credit note",
        lambda: session.api.update_credit_note(
            session.tenant, note_id, body, idempotency_key=key, _preload_content=False
        ),
    )


def _send(
    session: XeroSession, what: str, request: Callable[[], urllib3.BaseHTTPResponse]
) -> dict[str, Any]:
    refreshed = False
    while True:
        try:
            return dict(json.loads(request().data, parse_float=Decimal))
        except HTTPStatusException as exc:
            if exc.status == 401 and not refreshed:
                refreshed = True
                session.refresh()
                continue
            if exc.status in (400, 403, 404):
                text = exc.http_resp.data.decode(errors="replace") if exc.http_resp else ""
                raise Refused(f"Xero refused the {what} ({exc.status}): {text[:500]}") from exc
            raise  # a 429 / 5xx: the outbox retries with the same idempotency key


def write_off_action(
    deps: ToolDeps, *, action_id: int, payload: dict[str, Any], on: date, attempt: int = 1
) -> dict[str, Any]:
    """Post an approved write-off action's invoice to Xero; what the audit row keeps."""
    order = write_off_order(deps, action_id=action_id, payload=payload, on=on, attempt=attempt)
    posted = post_write_off(deps, order)
    return {
        "xero_credit_note_id": posted.credit_note_id,
        "xero_credit_note_number": posted.credit_note_number,
        "xero_idempotency_keys": list(posted.idempotency_keys),
        "books_note": f"Xero credit note {posted.credit_note_number}",
    }


def post_payment(deps: ToolDeps, order: PaymentOrder) -> Posted:
    """A received payment on the invoice, into the Xero bank account of the statement account
    (ARBOT_XERO_BANK_ACCOUNTS, else ARBOT_XERO_BANK_ACCOUNT_CODE); its Xero PaymentID. The
    Idempotency-Key makes a retry return the first Payment instead of a second one; a payment
    Xero refuses (more than the invoice owes, an invoice already paid or void, an unknown account)
    is `Refused`, not retried."""
    account = deps.settings.xero_bank_account_for(order.bank_account) or need_setting(
        deps, "xero_bank_account_code"
    )
    session = XeroSession(deps)
    payment = {
        "Invoice": {"InvoiceID": order.invoice_external_id},
        "Account": {"Code": account},
        "Date": order.on.isoformat(),
        "Amount": _amount(order.amount_minor, order.currency),
        "Reference": order.reference[:255],
    }
    answer = _send(
        session,
        "payment",
        lambda: session.api.create_payments(
            session.tenant, {"Payments": [payment]}, idempotency_key=order.request_id,
            _preload_content=False,
        ),
    )  # fmt: skip
    made = (answer.get("Payments") or [{}])[0]
    if not made.get("PaymentID") or made.get("HasValidationErrors"):
        raise Refused(f"Xero answered without a payment: {str(answer)[:300]}")
    return Posted(str(made["PaymentID"]))
