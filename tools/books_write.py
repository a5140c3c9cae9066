"""What an approved write-off asks of the books, read once from the action the same way for
every accounting system; each vendor's writer (tools.quickbooks_write, tools.xero_write) turns
it into its documents."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from db.customers import get_customer
from tools.deps import ToolDeps
from tools.write_off import request_id


@dataclass(frozen=True)
class WriteOffOrder:
    action_id: int
    request_id: str  # random, stored with the action: every retry derives the same keys
    invoice_external_id: str
    invoice_label: str | None
    customer_external_id: str
    amount_minor: int
    currency: str
    reason: str
    on: date
    retry: bool  # not the first attempt: the books may hold what a lost answer created


def write_off_order(
    deps: ToolDeps, *, action_id: int, payload: dict[str, Any], on: date, attempt: int = 1
) -> WriteOffOrder:
    inv = payload["invoice"]
    with deps.sessions() as session:
        customer = get_customer(session, int(payload["customer_id"]))
        assert customer is not None
        customer_ext = customer.external_id
    return WriteOffOrder(
        action_id=action_id,
        request_id=request_id(payload, action_id),
        invoice_external_id=str(inv["external_id"]),
        invoice_label=inv.get("label"),
        customer_external_id=customer_ext,
        amount_minor=int(inv["open_minor"]),
        currency=str(inv["currency"]),
        reason=str(payload.get("reason") or ""),
        on=on,
        retry=attempt > 1,
    )
