"""The outbox worker: executes approved actions, once, after the approval has committed.

Claim: a conditional UPDATE approved -> executing with a lease; an expired lease (the worker
died) is claimed again. Emails: built first (one that cannot be fails the action); the sent
record is committed BEFORE SMTP; a refusal deletes it as the retry is scheduled; after a crash
past that commit (or a connection lost during DATA) it stays: never sent again, and done with
"delivery unknown: check the outbox". Write-offs go to Stripe, QuickBooks or Xero, applied
bank receipts to the books (tools.books_payment), with keys derived from the action, so a
retry replays the first answer; ledger and status change commit together."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError

from db.actions import (
    delete_sent_email,
    due_for_execution,
    insert_audit,
    insert_sent_email,
    sent_email_for,
)
from db.engine import transaction
from db.invoices import mark_written_off
from db.models import ActionKind, ActionStatus
from tools import actions, dunning, outbox_books, quickbooks_write, write_off, xero_write
from tools.actions import ActionInfo
from tools.deps import ToolDeps
from tools.mailer import (
    DeliveryUnknown,
    PermanentSmtpError,
    UnsendableEmail,
    build_message,
    mailer_from_settings,
)
from tools.redact import redact, redact_logger
from tools.settings import SettingsError

log = logging.getLogger(__name__)
_BOOKS = {"stripe": "Stripe mark_uncollectible", "quickbooks": "QuickBooks", "xero": "Xero"}
_REFUSED = quickbooks_write.Refused | xero_write.Refused | SettingsError  # retrying cannot help
ACTOR = "outbox"
DELIVERY_UNKNOWN = "delivery unknown: check the outbox"


class MailSender(Protocol):
    def send(self, msg: Any) -> None: ...


class PermanentError(Exception):
    """Retrying cannot help (refused by the server, invalid request): fail at once."""


def idempotency_key(action_id: int) -> str:
    return f"arbot-write-off-action-{action_id}"


def make_stripe_client(deps: ToolDeps) -> Any:
    import stripe

    s = deps.settings
    if s.stripe_api_key is None:
        raise PermanentError("STRIPE_API_KEY is not set; cannot mark the Stripe invoice")
    redact_logger("stripe")
    return stripe.StripeClient(
        s.stripe_api_key.get_secret_value(),
        base_addresses={"api": s.stripe_api_base},
        max_network_retries=0,  # the outbox owns retries and their backoff
    )


def _stripe_mark_uncollectible(client: Any, invoice_external_id: str, action_id: int) -> None:
    import stripe

    try:
        client.v1.invoices.mark_uncollectible(
            invoice_external_id, options={"idempotency_key": idempotency_key(action_id)}
        )
    except (stripe.InvalidRequestError, stripe.AuthenticationError, stripe.PermissionError) as exc:
        raise PermanentError(f"Stripe refused: {exc.user_message or exc}") from exc


class Outbox:
    """Runs approved actions. `notify(action_id)` is called after each change (card update)."""

    def __init__(
        self,
        deps: ToolDeps,
        *,
        mailer: MailSender | None = None,
        stripe_client: Callable[[], Any] | None = None,
        notify: Callable[[int], None] | None = None,
        max_attempts: int = 5,
        backoff_seconds: float = 15.0,
        lease_seconds: float = 300.0,
        clock: Callable[[], datetime] = actions.now_utc,
    ) -> None:
        self.deps = deps
        self.mailer = mailer if mailer is not None else mailer_from_settings(deps.settings)
        self.stripe_client = stripe_client or (lambda: make_stripe_client(deps))
        self.notify = notify
        self.max_attempts = max_attempts
        self.backoff_seconds = backoff_seconds
        self.lease = timedelta(seconds=lease_seconds)
        self.clock = clock
        self._wake = threading.Event()

    # --- the loop ---------------------------------------------------------------------------

    def run_once(self, *, limit: int = 50) -> list[int]:
        """Expire stale proposals and execute what is due; returns the ids that changed."""
        changed = actions.expire_due(self.deps, now=self.clock())
        for action_id in changed:
            self._notify(action_id)
        with self.deps.sessions() as session:
            due = due_for_execution(session, self.clock(), limit)
        for action_id, _status, _version in due:
            claimed = self._claim(action_id)
            if claimed is None:
                continue
            self._notify(action_id)
            try:
                self._execute(claimed)
            except Exception:
                # Unexpected: leave it executing; the lease lets a later run pick it up.
                log.exception("event=outbox_unexpected action=%s", action_id)
            changed.append(action_id)
            self._notify(action_id)
        return changed

    def wake(self) -> None:
        """Run now instead of at the next tick (called right after an approval)."""
        self._wake.set()

    def run_forever(self, stop: threading.Event, *, interval: float = 1.0) -> None:
        while not stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("event=outbox_loop_error")
            self._wake.wait(interval)
            self._wake.clear()

    def start(self, *, interval: float = 1.0) -> tuple[threading.Thread, threading.Event]:
        stop = threading.Event()
        thread = threading.Thread(
            target=self.run_forever,
            args=(stop,),
            kwargs={"interval": interval},
            daemon=True,
            name="arbot-outbox",
        )
        thread.start()
        return thread, stop

    # --- steps ------------------------------------------------------------------------------

    def _notify(self, action_id: int) -> None:
        if self.notify is None:
            return
        try:
            self.notify(action_id)
        except Exception:
            log.exception("event=outbox_notify_failed action=%s", action_id)

    def _claim(self, action_id: int) -> ActionInfo | None:
        now = self.clock()
        a = actions.load(self.deps, action_id)
        due = a.status == ActionStatus.APPROVED and a.next_attempt_at_ok(now)
        if not (due or (a.status == ActionStatus.EXECUTING and a.lease_expired(now))):
            return None
        event = "executing" if a.status == ActionStatus.APPROVED else "reclaimed"
        values: dict[str, Any] = {"attempts": a.attempts + 1, "next_attempt_at": now + self.lease}
        if a.kind == ActionKind.WRITE_OFF and not a.payload.get("request_id"):
            values["payload"] = {**a.payload, "request_id": write_off.new_request_id()}
        with transaction(self.deps.sessions) as session:
            won = actions.transition(session, a, to=ActionStatus.EXECUTING, actor=ACTOR,
                                     event=event, at=now, values=values)  # fmt: skip
        return actions.load(self.deps, action_id) if won else None

    def _execute(self, a: ActionInfo) -> None:
        if a.kind == ActionKind.DUNNING_EMAIL:
            self._send_email(a)
        elif a.kind == ActionKind.WRITE_OFF:
            self._write_off(a)
        elif a.kind == ActionKind.BOOKS_PAYMENT:
            outbox_books.post(self, a)
        else:
            self._finish(a, ActionStatus.FAILED, "failed", {"last_error": f"unknown kind {a.kind}"})

    def _finish(
        self, a: ActionInfo, to: str, event: str, values: dict[str, Any], **detail: Any
    ) -> bool:
        with transaction(self.deps.sessions) as session:
            return self._finish_in(session, a, to, event, values, detail)

    def _finish_in(
        self,
        session: Any,
        a: ActionInfo,
        to: str,
        event: str,
        values: dict[str, Any],
        detail: dict[str, Any] | None = None,
    ) -> bool:
        won = actions.transition(
            session,
            a,
            to=to,
            actor=ACTOR,
            event=event,
            at=self.clock(),
            values=values,
            detail=detail,
        )
        if not won:
            log.warning("event=outbox_lost_lease action=%s to=%s", a.id, to)
        return won

    def _cancel(self, a: ActionInfo, reason: str) -> None:
        note = f"Cancelled before execution: {reason}."
        self._finish(
            a, ActionStatus.CANCELLED, "cancelled", {"decision_note": note, "next_attempt_at": None}
        )

    def _failure_values(
        self, a: ActionInfo, error: str, permanent: bool, *, books: bool = False
    ) -> tuple[str, dict[str, Any]]:
        """`books`: a write-back to the books, which waits out a longer outage."""
        error = redact(error)  # shown on the card: a vendor's message may quote a key
        limit = outbox_books.BOOKS_MAX_ATTEMPTS if books else self.max_attempts
        if permanent or a.attempts >= limit:
            return ActionStatus.FAILED, {"last_error": error[:2000], "next_attempt_at": None}
        delay = self.backoff_seconds * (4 ** (a.attempts - 1))
        if books:
            delay = outbox_books.delay_seconds(self.backoff_seconds, a.attempts)
        return ActionStatus.APPROVED, {
            "last_error": error[:2000],
            "next_attempt_at": self.clock() + timedelta(seconds=delay),
        }

    def _send_email(self, a: ActionInfo) -> None:
        """Send once: a sent record is written before SMTP is called and dropped if it fails,
        so a crash in between never sends twice (the record wins) and a failure retries."""
        if self._already_sent(a):
            return
        stale = dunning.recheck(self.deps, a.payload, now=self.clock())
        if stale:
            self._cancel(a, stale)
            return
        mailer = self.mailer
        if mailer is None:
            to, values = self._failure_values(a, "ARBOT_SMTP_URL is not set", permanent=True)
            self._finish(a, to, "failed", values)
            return
        p = a.payload
        try:
            msg = build_message(
                action_id=a.id,
                sender=self.deps.settings.smtp_from,
                recipient=p["recipient"],
                subject=p["subject"],
                body=p["body"],
            )
        except UnsendableEmail as exc:
            to, values = self._failure_values(a, f"email not sent: {exc}", permanent=True)
            self._finish(a, to, "failed", values)
            return
        if self._reserve(a, msg["Message-ID"]):
            self._deliver(a, msg, mailer)

    def _already_sent(self, a: ActionInfo) -> bool:
        with self.deps.sessions() as session:
            sent = sent_email_for(session, a.id)
        if sent is None:
            return False
        # A previous attempt wrote the record and died before SMTP's answer was recorded:
        # never resend, and never claim it arrived.
        self._delivery_unknown(a, sent.message_id, recovered=True)
        return True

    def _reserve(self, a: ActionInfo, message_id: str) -> bool:
        """Write the sent record; False when another worker holds it already."""
        try:
            with transaction(self.deps.sessions) as session:
                insert_sent_email(
                    session,
                    action_id=a.id,
                    message_id=message_id,
                    recipient=a.payload["recipient"],
                    subject=a.payload["subject"],
                    at=self.clock(),
                )
        except IntegrityError:
            log.warning("event=outbox_already_sending action=%s", a.id)
            return False
        return True

    def _deliver(self, a: ActionInfo, msg: EmailMessage, mailer: MailSender) -> None:
        try:
            mailer.send(msg)
        except DeliveryUnknown:
            # The server may hold the message: keep the record so nothing resends it.
            self._delivery_unknown(a, msg["Message-ID"])
            return
        except Exception as exc:
            permanent = isinstance(exc, PermanentSmtpError)
            error = f"email not sent: {type(exc).__name__}: {exc}"
            to, values = self._failure_values(a, error, permanent)
            event = "retry" if to == ActionStatus.APPROVED else "failed"
            with transaction(self.deps.sessions) as session:
                delete_sent_email(session, a.id)
                if not self._finish_in(session, a, to, event, values):
                    # Another worker reclaimed it and reads the record: keeping it is what
                    # stops a second copy and keeps its "delivery unknown" card true.
                    raise RuntimeError(
                        f"lost the claim on action {a.id}; sent record kept"
                    ) from exc
            log.warning("event=outbox_email_failed action=%s attempt=%s", a.id, a.attempts)
            return
        done = {"last_error": None, "next_attempt_at": None}
        self._finish(a, ActionStatus.DONE, "done", done, message_id=msg["Message-ID"])
        log.info("event=outbox_email_sent action=%s", a.id)

    def _delivery_unknown(self, a: ActionInfo, message_id: str, **detail: Any) -> None:
        """Done, with "delivery unknown" as its error: never resent, never claimed as sent."""
        unknown = {"last_error": f"{DELIVERY_UNKNOWN} (Message-ID {message_id})",
                   "next_attempt_at": None}  # fmt: skip
        self._finish(a, ActionStatus.DONE, "done", unknown, message_id=message_id, **detail)
        log.warning("event=outbox_delivery_unknown action=%s", a.id)

    def _write_off(self, a: ActionInfo) -> None:
        deps, inv = self.deps, a.payload["invoice"]
        stale = write_off.recheck(deps, a.payload, now=self.clock())
        if stale:
            self._cancel(a, stale)
            return
        books: dict[str, Any] = {}
        on = self.clock().astimezone(deps.settings.tz).date()
        try:
            if inv["source"] == "stripe":
                _stripe_mark_uncollectible(self.stripe_client(), inv["external_id"], a.id)
            elif inv["source"] == "quickbooks":
                books = quickbooks_write.write_off_action(
                    deps, action_id=a.id, payload=a.payload, on=on
                )
            elif inv["source"] == "xero":
                books = xero_write.write_off_action(
                    deps, action_id=a.id, payload=a.payload, on=on, attempt=a.attempts
                )
        except xero_write.Changed as exc:
            self._cancel(a, str(exc))
            return
        except Exception as exc:
            permanent = isinstance(exc, PermanentError | _REFUSED)
            vendor = _BOOKS.get(inv["source"], inv["source"])
            to, values = self._failure_values(a, f"{vendor} failed: {exc}", permanent)
            self._finish(a, to, "retry" if to == ActionStatus.APPROVED else "failed", values)
            log.warning("event=outbox_books_failed action=%s attempt=%s", a.id, a.attempts)
            return
        with transaction(deps.sessions) as session:
            now = self.clock()
            mark_written_off(session, int(inv["id"]), now)
            insert_audit(
                session,
                actor=a.decided_by or ACTOR,
                event="written_off",
                entity="invoice",
                entity_id=str(inv["id"]),
                before={"written_off_at": None},
                after={"written_off_at": now.isoformat(), "action_id": a.id},
                at=now,
            )
            key = idempotency_key(a.id) if inv["source"] == "stripe" else None
            # The card names the document the books received (decision_note is free once approved).
            done = {"last_error": None, "next_attempt_at": None}
            if books.get("books_note"):
                done["decision_note"] = books.pop("books_note")
            detail = {"stripe_idempotency_key": key, **books}
            if not self._finish_in(session, a, ActionStatus.DONE, "done", done, detail):
                raise RuntimeError(f"lost the claim on action {a.id}; ledger change rolled back")
        log.info("event=outbox_written_off action=%s", a.id)
