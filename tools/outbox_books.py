"""The outbox's step for applied bank receipts written back to the books (tools.books_payment).

A write-back waits out an outage: network errors, 5xx, 429 and a refresh token the books
refused (someone has to connect again) are retried for about a day (BOOKS_MAX_ATTEMPTS, the
delay growing to BOOKS_MAX_DELAY), and `arbot outbox retry` queues failed ones again. Only
what retrying cannot change fails at once: the books refusing the payment, a setting unset.
Each attempt first checks that the bank's payment row still sits on the invoice for the amount
approved: a receipt moved to another source's copy (or already read back from the books) is
cancelled, with its audit row, instead of being posted twice."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from db.books_payments import bank_payment_place, failed_writes
from db.engine import transaction
from db.models import ActionStatus
from tools import books_payment, quickbooks_write, xero_write
from tools.actions import ActionInfo, info, transition
from tools.deps import ToolDeps
from tools.settings import SettingsError
from tools.token_box import TokenRefused

if TYPE_CHECKING:
    from tools.outbox import Outbox

log = logging.getLogger(__name__)
BOOKS_MAX_ATTEMPTS = 28  # 15 s growing 4x to an hour: about 24 hours of trying
BOOKS_MAX_DELAY = 3600.0


def permanent(exc: Exception) -> bool:
    """Retrying cannot help: the books refused the payment, or a setting is missing."""
    if isinstance(exc, TokenRefused):
        return False
    return isinstance(exc, quickbooks_write.Refused | xero_write.Refused | SettingsError)


def delay_seconds(backoff: float, attempts: int) -> float:
    return min(backoff * 4.0 ** (attempts - 1), BOOKS_MAX_DELAY)


def moved_away(box: Outbox, a: ActionInfo) -> str | None:
    """Why the approved write-back does not hold now (its receipt moved), or None."""
    p = a.payload
    with box.deps.sessions() as session:
        place = bank_payment_place(session, str(p["bank_payment"]))
    if place != (int(p["invoice"]["id"]), int(p["amount_minor"])):
        return (
            f"the bank receipt no longer pays this {books_payment.books_name(a)} invoice for "
            "this amount (moved to another source's copy, unapplied, or already in the books)"
        )
    return None


def post(box: Outbox, a: ActionInfo) -> None:
    """The outbox step of one write-back."""
    moved = moved_away(box, a)
    if moved:
        box._cancel(a, moved)
        return
    try:
        posted = books_payment.post(box.deps, a)
    except Exception as exc:
        error = f"recording the payment in {books_payment.books_name(a)} failed: {exc}"
        to, values = box._failure_values(a, error, permanent(exc), books=True)
        box._finish(a, to, "retry" if to == ActionStatus.APPROVED else "failed", values)
        log.warning("event=outbox_books_failed action=%s attempt=%s", a.id, a.attempts)
        return
    with transaction(box.deps.sessions) as session:
        books_payment.record(session, a, posted)
        note = posted.pop("books_note")  # the card names the payment the books received
        done = {"last_error": None, "next_attempt_at": None, "decision_note": note}
        if not box._finish_in(session, a, ActionStatus.DONE, "done", done, posted):
            raise RuntimeError(f"lost the claim on action {a.id}; ledger change rolled back")


def retry_failed(
    deps: ToolDeps, *, by: str, now: datetime, action_id: int | None = None
) -> list[int]:
    """Queue failed write-backs again (all, or one), from a first attempt; their ids. The
    request id is unchanged, so a payment the books did record is answered, not repeated."""
    again = []
    with transaction(deps.sessions) as session:
        for action in failed_writes(session, action_id):
            values: dict[str, Any] = {"attempts": 0, "next_attempt_at": now}
            if transition(session, info(action), to=ActionStatus.APPROVED, actor=by,
                          event="requeued", at=now, values=values):  # fmt: skip
                again.append(action.id)
    return again
