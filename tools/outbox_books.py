"""The outbox's step for applied bank receipts written back to the books (tools.books_payment).

A write-back waits out an outage: network errors, 5xx, 429 and a refresh token the books
refused (someone has to connect again) are retried for about a day (BOOKS_MAX_ATTEMPTS, the
delay growing to BOOKS_MAX_DELAY), and `arbot outbox retry` queues failed ones again. Only
what retrying cannot change fails at once: the books refusing the payment, a setting unset.
Each attempt first checks that the bank's payment row still sits on the invoice for the amount
approved. A receipt the books' sync already read back (the books hold a payment naming it: an
answer was lost, then the sync came first) ends done with that payment's id, posted nothing;
a receipt moved to another source's copy, or unapplied, is cancelled, with its audit row,
instead of being posted twice."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from db.books_payments import bank_payment_place, failed_writes, read_back
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


def moved_away(box: Outbox, a: ActionInfo) -> tuple[str | None, str | None]:
    """(why the approved write-back does not hold now, the books' payment row that took the
    receipt over): (None, None) while the receipt waits on its invoice; (None, row) once the
    books' sync read the payment back; (reason, None) when the receipt moved elsewhere."""
    p = a.payload
    bank = str(p["bank_payment"])
    with box.deps.sessions() as session:
        place = bank_payment_place(session, bank)
        books_row = read_back(session, str(p["source"]), bank) if place is None else None
    if books_row is not None:
        return None, books_row
    if place != (int(p["invoice"]["id"]), int(p["amount_minor"])):
        return (
            f"the bank receipt no longer pays this {books_payment.books_name(a)} invoice for "
            "this amount (moved to another source's copy, or unapplied)"
        ), None
    return None, None


def post(box: Outbox, a: ActionInfo) -> None:
    """The outbox step of one write-back."""
    moved, books_row = moved_away(box, a)
    if books_row is not None:
        _found_in_books(box, a, books_row)
        return
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


def _found_in_books(box: Outbox, a: ActionInfo, books_row: str) -> None:
    """Done, posting nothing: the books hold the payment (the sync moved the bank's row to
    it already), so the card and the audit row name that payment as the one recorded."""
    posted = books_payment.found(a, books_row)
    note = posted.pop("books_note")
    done = {"last_error": None, "next_attempt_at": None, "decision_note": note}
    box._finish(a, ActionStatus.DONE, "done", done, **posted)


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
