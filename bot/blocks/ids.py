"""Every id the bot's own Slack surfaces use, and the small payloads their buttons carry.

Three kinds of id, one enum each: `ActionId` names a button (what a listener matches),
`ViewId` names a modal (its callback_id), `FieldId` names a modal input (its block_id and
action_id, which are the same so a submission is read by one key). Button values and modal
metadata carry only ids (and the version a card shows), as the models below; everything else
is read again at click time.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict


class ActionId(StrEnum):
    # answers
    SHOW_ROWS = "arbot_show_rows"
    PICK_CUSTOMER = "arbot_pick_customer"  # a prefix: each button adds ":<customer id>"
    # approval cards
    APPROVE = "arbot_approval_approve"
    EDIT = "arbot_approval_edit"
    REJECT = "arbot_approval_reject"
    CONFIRM = "arbot_approval_confirm"  # a promise or dispute note the assistant proposed
    # at-risk and dispute alerts
    ALERT_DRAFT = "arbot_alert_draft_reminder"
    ALERT_PROMISE = "arbot_alert_record_promise"
    ALERT_DISPUTE = "arbot_alert_mark_disputed"
    ALERT_SNOOZE = "arbot_alert_snooze"
    # cash application cards (a prefix: each button adds ":<bank line id>")
    CASH_APPLY = "arbot_cash_apply"
    CASH_CHOOSE = "arbot_cash_choose"
    CASH_LEAVE = "arbot_cash_leave"
    CASH_REOPEN = "arbot_cash_reopen"


class ViewId(StrEnum):
    EDIT_DRAFT = "arbot_approval_edit_modal"
    REJECT = "arbot_approval_reject_modal"
    PROMISE = "arbot_alert_promise_modal"
    DISPUTE = "arbot_alert_dispute_modal"
    CASH_CHOOSE = "arbot_cash_choose_modal"


class FieldId(StrEnum):
    SUBJECT = "subject"
    BODY = "body"
    REASON = "reason"
    INVOICE = "invoice"
    PROMISED_ON = "promised_on"
    AMOUNT = "amount"
    INVOICES = "invoices"


# --- button values --------------------------------------------------------------------------

RowsKind = Literal[
    "open_invoices",
    "customer_invoices",
    "overdue_invoices",
    "disputes",
    "unapplied",
    "reconcile",
]


class RowsRequest(BaseModel):
    """What "Show invoices" must list: carried in the button's value (< 2,000 characters)."""

    kind: RowsKind
    as_of: date
    customer_id: int | None = None
    more_than_days: int | None = 0
    sources: list[str] | None = None


class PickCustomer(BaseModel):
    """An ask-back button: answer the balance of this customer as of this date."""

    customer_id: int
    as_of: date | None = None


class AlertRef(BaseModel):
    """What an alert button is about: the customer, and the invoice when there is one."""

    customer_id: int
    invoice_id: int | None = None


class CardRef(BaseModel):
    """An approval card's button: the action, and the version of the draft the card shows
    (`ActionInfo.shown_version`), so an approval applies to the words the person read.

    A bare id ("42") parses with no version: it cannot show which words the person read, so
    such an approval is refused and the card redrawn.
    """

    model_config = ConfigDict(frozen=True)

    action_id: int
    version: str = ""

    @classmethod
    def parse(cls, value: str) -> CardRef:
        if value.strip().isdigit():
            return cls(action_id=int(value))
        return cls.model_validate_json(value)


# --- modal metadata -------------------------------------------------------------------------


class AlertForm(AlertRef):
    """A promise or dispute modal: the alert it was opened from and that alert's channel,
    where the outcome is announced (a view submission says nothing of where it came from)."""

    channel: str | None = None


class CardForm(BaseModel):
    """An Edit or Reject modal: the action, and for Edit the version the draft was read at."""

    action_id: int
    version: int | None = None


class CashForm(BaseModel):
    """The "Choose invoices" modal: the bank line it applies."""

    txn_id: int
