"""Writing an approved write-off back to Xero: a sales credit note (ACCRECCREDIT) for the open
amount, coded to the bad-debts account, allocated to the invoice, the way Xero records bad
debt.

Two calls, each with an `Idempotency-Key` derived from the action: a retry of either, after a
timeout or a lost answer, gets Xero's first answer back instead of a second document, so the
books receive the write-off once however often the outbox tries. The credit note's Reference
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

from db.customers import get_customer
from tools.books_fields import BAD_DEBT_NOTE
from tools.deps import ToolDeps
from tools.money import to_major
from tools.xero_sync import XeroSession, need_setting


class Refused(Exception):
    """Xero refused the document (validation); retrying the same request cannot help."""


@dataclass(frozen=True)
class WriteOffPosted:
    credit_note_id: str
    credit_note_number: str
    idempotency_keys: tuple[str, str]


def idempotency_keys(action_id: int) -> tuple[str, str]:
    return f"arbot-write-off-{action_id}-note", f"arbot-write-off-{action_id}-allocate"


def _amount(minor: int, currency: str) -> Decimal:
    """The amount as the client will send it (a JSON number via float): refused outright if
    the float would not be the amount to the minor unit."""
    major = to_major(minor, currency)
    if Decimal(repr(float(major))) != major:
        raise Refused(f"{major} {currency} cannot be written exactly as a JSON number")
    return major


def post_write_off(
    deps: ToolDeps,
    *,
    action_id: int,
    invoice_external_id: str,
    invoice_number: str | None,
    customer_external_id: str,
    amount_minor: int,
    currency: str,
    reason: str,
    on: date,
) -> WriteOffPosted:
    account = need_setting(deps, "xero_bad_debt_account_code")
    session = XeroSession(deps)
    amount = _amount(amount_minor, currency)
    note_key, allocate_key = idempotency_keys(action_id)
    shown = invoice_number or invoice_external_id
    note = {
        "Type": "ACCRECCREDIT",
        "Contact": {"ContactID": customer_external_id},
        "Date": on.isoformat(),
        "Status": "AUTHORISED",
        "LineAmountTypes": "NoTax",
        "CurrencyCode": currency,
        "Reference": f"{BAD_DEBT_NOTE} of {shown} (arbot action {action_id})"[:255],
        "LineItems": [
            {
                "Description": f"{BAD_DEBT_NOTE} of invoice {shown}, approved in Slack: {reason}"[
                    :4000
                ],
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
    allocation = {"Invoice": {"InvoiceID": invoice_external_id}, "Amount": amount,
                  "Date": on.isoformat()}  # fmt: skip
    _send(
        session,
        "allocation",
        lambda: session.api.create_credit_note_allocation(
            session.tenant, note_id, {"Allocations": [allocation]},
            idempotency_key=allocate_key, _preload_content=False,
        ),
    )  # fmt: skip
    return WriteOffPosted(
        credit_note_id=note_id,
        credit_note_number=str(made.get("CreditNoteNumber") or note_id),
        idempotency_keys=(note_key, allocate_key),
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
    deps: ToolDeps, *, action_id: int, payload: dict[str, Any], on: date
) -> dict[str, Any]:
    """Post an approved write-off action's invoice to Xero; what the audit row keeps."""
    inv = payload["invoice"]
    with deps.sessions() as session:
        customer = get_customer(session, int(payload["customer_id"]))
        assert customer is not None
        customer_ext = customer.external_id
    posted = post_write_off(
        deps,
        action_id=action_id,
        invoice_external_id=str(inv["external_id"]),
        invoice_number=inv.get("label"),
        customer_external_id=customer_ext,
        amount_minor=int(inv["open_minor"]),
        currency=str(inv["currency"]),
        reason=str(payload.get("reason") or ""),
        on=on,
    )
    return {
        "xero_credit_note_id": posted.credit_note_id,
        "xero_credit_note_number": posted.credit_note_number,
        "xero_idempotency_keys": list(posted.idempotency_keys),
        "books_note": f"Xero credit note {posted.credit_note_number}",
    }
