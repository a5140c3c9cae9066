"""Writing an approved write-off back to QuickBooks Online: a bad-debt credit memo applied to
the invoice, the way QuickBooks records bad debt.

Two calls, each with a request id derived from the action (QuickBooks' `requestid`): a retry
of either, after a timeout or a lost answer, gets QuickBooks' first answer back instead of a
second document, so the books receive the write-off once however often the outbox tries.
1. CreditMemo for the open amount, on the bad-debt item (ARBOT_QUICKBOOKS_BAD_DEBT_ITEM_ID),
   its private note starting with BAD_DEBT_NOTE so the sync reads it back as a write-off;
2. a zero Payment linking the invoice and the memo, which applies the credit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from quickbooks.exceptions import (
    AuthorizationException,
    QuickbooksException,
    ValidationException,
)

from tools import quickbooks_map
from tools.books_payment import PaymentOrder, Posted
from tools.books_write import WriteOffOrder, write_off_order
from tools.deps import ToolDeps
from tools.money import to_major
from tools.quickbooks_map import BAD_DEBT_NOTE
from tools.quickbooks_sync import QuickBooksSession, need_setting


class Refused(Exception):
    """QuickBooks refused the document (validation); retrying the same request cannot help."""


@dataclass(frozen=True)
class WriteOffPosted:
    credit_memo_id: str
    payment_id: str
    request_ids: tuple[str, str]


def request_ids(request_id: str) -> tuple[str, str]:
    """(create the memo, apply it), from the action's random request id."""
    return quickbooks_map.request_id(request_id, "-memo"), quickbooks_map.request_id(
        request_id, "-apply"
    )


def _amount(minor: int, currency: str) -> float:
    """A JSON number for the amount. Floats print their shortest exact decimal, so the number
    written is the amount to the cent; refused outright if it could not be."""
    major = to_major(minor, currency)
    number = float(major)
    if Decimal(repr(number)) != major:
        raise Refused(f"{major} {currency} cannot be written exactly as a JSON number")
    return number


def post_write_off(deps: ToolDeps, order: WriteOffOrder) -> WriteOffPosted:
    item = need_setting(deps.settings, "quickbooks_bad_debt_item_id")
    session = QuickBooksSession(deps, on_response=lambda _r: None)
    amount = _amount(order.amount_minor, order.currency)
    memo_request, apply_request = request_ids(order.request_id)
    customer = {"value": order.customer_external_id}
    memo = _create(
        session,
        "CreditMemo",
        {
            "CustomerRef": customer,
            "CurrencyRef": {"value": order.currency},
            "TxnDate": order.on.isoformat(),
            "PrivateNote": f"{BAD_DEBT_NOTE} of invoice {order.invoice_external_id}, approved in "
            f"Slack (arbot action {order.action_id}): {order.reason}"[:4000],
            "Line": [
                {
                    "Amount": amount,
                    "DetailType": "SalesItemLineDetail",
                    "SalesItemLineDetail": {"ItemRef": {"value": item}},
                }
            ],
        },
        memo_request,
    )
    memo_id = str(memo["CreditMemo"]["Id"])
    applied = _create(
        session,
        "Payment",
        {
            "CustomerRef": customer,
            "CurrencyRef": {"value": order.currency},
            "TxnDate": order.on.isoformat(),
            "TotalAmt": 0,
            "Line": [
                {
                    "Amount": amount,
                    "LinkedTxn": [{"TxnId": order.invoice_external_id, "TxnType": "Invoice"}],
                },
                {"Amount": amount, "LinkedTxn": [{"TxnId": memo_id, "TxnType": "CreditMemo"}]},
            ],
        },
        apply_request,
    )
    return WriteOffPosted(
        credit_memo_id=memo_id,
        payment_id=str(applied["Payment"]["Id"]),
        request_ids=(memo_request, apply_request),
    )


def _create(
    session: QuickBooksSession, entity: str, body: dict[str, Any], request_id: str
) -> dict[str, Any]:
    refreshed = False
    while True:
        try:
            answer = session.client.create_object(entity, json.dumps(body), request_id=request_id)
            return dict(answer)
        except AuthorizationException:
            if refreshed:
                raise
            refreshed = True
            session.refresh()
        except ValidationException as exc:
            raise Refused(f"QuickBooks refused the {entity}: {exc.message} {exc.detail}") from exc
        except QuickbooksException:
            raise  # a 5xx or garbled answer: the outbox retries with the same request id


def write_off_action(
    deps: ToolDeps, *, action_id: int, payload: dict[str, Any], on: date
) -> dict[str, Any]:
    """Post an approved write-off action's invoice to QuickBooks; what the audit row keeps."""
    order = write_off_order(deps, action_id=action_id, payload=payload, on=on)
    posted = post_write_off(deps, order)
    return {
        "quickbooks_credit_memo_id": posted.credit_memo_id,
        "quickbooks_payment_id": posted.payment_id,
        "quickbooks_request_ids": list(posted.request_ids),
    }


def post_payment(deps: ToolDeps, order: PaymentOrder) -> Posted:
    """A received Payment applied to the invoice (Line[].LinkedTxn), deposited to the account
    of the statement account (ARBOT_QUICKBOOKS_DEPOSIT_ACCOUNTS, else
    ARBOT_QUICKBOOKS_DEPOSIT_ACCOUNT_ID; neither: QuickBooks' default, Undeposited Funds); its
    QuickBooks id and where the money went. The request id makes a retry return the first
    Payment instead of a second one."""
    session = QuickBooksSession(deps, on_response=lambda _r: None)
    amount = _amount(order.amount_minor, order.currency)
    account = deps.settings.quickbooks_deposit_account_for(order.bank_account)
    body: dict[str, Any] = {
        "CustomerRef": {"value": order.customer_external_id},
        "CurrencyRef": {"value": order.currency},
        "TxnDate": order.on.isoformat(),
        "TotalAmt": amount,
        "PrivateNote": order.note[:4000],
        "Line": [
            {
                "Amount": amount,
                "LinkedTxn": [{"TxnId": order.invoice_external_id, "TxnType": "Invoice"}],
            }
        ],
    }
    if account:
        body["DepositToAccountRef"] = {"value": account}
    posted = _create(session, "Payment", body, order.request_id)["Payment"]
    return Posted(str(posted["Id"]), _deposited(account, posted, order.bank_account))


def _deposited(account: str | None, posted: dict[str, Any], statement: str | None) -> str:
    """Where the Payment's money is, in the card's words."""
    if account:
        name = (posted.get("DepositToAccountRef") or {}).get("name")
        return f"deposited to {name} (account {account})" if name else f"deposited to {account}"
    which = f"statement account {statement}" if statement else "this receipt"
    return (
        "in Undeposited Funds, QuickBooks' default, as no deposit account is set for "
        f"{which} in ARBOT_QUICKBOOKS_DEPOSIT_ACCOUNTS"
    )
