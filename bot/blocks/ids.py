"""Every action_id the bot's own buttons use, and the small payloads they carry."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel


class ActionId(StrEnum):
    SHOW_ROWS = "arbot_show_rows"
    PICK_CUSTOMER = "arbot_pick_customer"


RowsKind = Literal[
    "open_invoices", "customer_invoices", "overdue_invoices", "disputes", "unapplied"
]


class RowsRequest(BaseModel):
    """What "Show invoices" must list: carried in the button's value (< 2,000 characters)."""

    kind: RowsKind
    as_of: date
    customer_id: int | None = None
    more_than_days: int | None = 0


class PickCustomer(BaseModel):
    """An ask-back button: answer the balance of this customer as of this date."""

    customer_id: int
    as_of: date | None = None
