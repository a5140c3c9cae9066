"""Applying a bank credit: payment rows on the invoices, the rest as unapplied cash, once.

Only a person (a finance user or approver, named in the audit) or the rule a person set
(ARBOT_CASH_AUTO_APPLY_CONFIDENCE) applies. The line leaves `unapplied` by one conditional
update in the same transaction as the payments, so of two clicks or two workers exactly
one writes; the payments' (source, external id) uniqueness backs that up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy.orm import Session

from db import bank as bank_db
from db.actions import insert_audit
from db.bank_models import BankTxn, BankTxnStatus
from db.engine import transaction
from db.invoices import open_invoices
from db.models import Payment, PaymentStatus
from tools.books_payment import queue_books_payments
from tools.cash_keys import payer_key
from tools.cash_match import Allocation, Suggestion, suggestion_key
from tools.cash_suggest import suggestions
from tools.clock import day_cut, today
from tools.deps import ToolDeps
from tools.errors import ToolInputError
from tools.money import format_money

AUTO = "arbot:auto-apply"
PAYMENT_ID_MAX = 255  # payments.external_id
SOURCE = "bank"


class CashRefused(ToolInputError):
    """The line cannot be applied as asked; the message says why."""


class AlreadyApplied(CashRefused):
    """Someone (or the rule) decided this line first; the message names who."""


@dataclass(frozen=True)
class Applied:
    txn_id: int
    customer_id: int
    currency: str
    allocations: tuple[Allocation, ...]
    unapplied_minor: int
    message: str


def _decided(txn: BankTxn) -> str:
    who = txn.decided_by or "someone"
    who = f"<@{who}>" if who[:1] in "UW" and who.isalnum() else who
    return f"Already {txn.status} by {who}."


def current_suggestion(deps: ToolDeps, txn_id: int) -> tuple[BankTxn, Suggestion | None]:
    s = deps.settings
    with deps.sessions() as session:
        txn = bank_db.get_txn(session, txn_id)
        if txn is None:
            raise CashRefused(f"bank line {txn_id} does not exist")
        found = suggestions(session, s, today(s.tz), [txn])
        return txn, found[txn.id]


def apply(
    deps: ToolDeps,
    txn_id: int,
    by: str,
    *,
    allocations: Sequence[Allocation] | None = None,
    customer_id: int | None = None,
    how: str = "hand",
    now: datetime | None = None,
    shown: str | None = None,
    slack_user: str | None = None,
    current: tuple[BankTxn, Suggestion | None] | None = None,
    on_behalf: str | None = None,
) -> Applied:
    """Apply the line as suggested, or to the `allocations` a person chose for `customer_id`.
    `shown` is the suggestion_key of what a card showed: a suggestion that has changed since
    (the ledger moved) is refused rather than applied unseen. `slack_user` is the Slack user
    a command-line user `by` stands for, named in the audit too. `current` is the line and
    its suggestion when the caller has just worked them out against the ledger as it is;
    `on_behalf` the person whose action set the rule going.
    The rule (how="auto") applies only a suggestion at or above its threshold."""
    now = now or datetime.now(UTC)
    s = deps.settings
    txn, suggestion = current or current_suggestion(deps, txn_id)
    threshold = s.cash_auto_apply_confidence
    if how == "auto" and (
        threshold is None
        or allocations is not None
        or suggestion is None
        or not suggestion.allocations
        or suggestion.confidence < threshold
    ):
        raise CashRefused("The rule applies only a suggestion at or above its threshold.")
    # A line a person left unapplied can still be applied by a person, never by the rule.
    reopen = (
        (BankTxnStatus.UNAPPLIED,)
        if how == "auto"
        else (BankTxnStatus.UNAPPLIED, BankTxnStatus.LEFT)
    )
    if txn.status not in reopen:
        raise AlreadyApplied(_decided(txn))
    if allocations is None:
        if suggestion is None or (suggestion.confidence < 0.5 and not suggestion.allocations):
            raise CashRefused("No suggestion to apply; choose the invoices.")
        if suggestion.currency != txn.currency and not suggestion.allocations:
            raise CashRefused(suggestion.reasons[-1])
        if shown is not None and suggestion_key(suggestion) != shown:
            raise CashRefused(
                "The suggestion has changed since the card was drawn; nothing was applied. "
                "The card now shows the current one."
            )
        chosen, customer_id = suggestion.allocations, suggestion.customer_id
        currency, left = suggestion.currency, suggestion.unapplied_minor
    else:
        if customer_id is None:
            raise CashRefused("Say which customer the chosen invoices belong to.")
        chosen = tuple(allocations)
        currency, left = txn.currency, txn.amount_minor - sum(a.amount_minor for a in chosen)
    with transaction(deps.sessions) as session:
        if not bank_db.decide_if_unapplied(
            session,
            txn.id,
            from_status=reopen,
            status=BankTxnStatus.APPLIED,
            by=by,
            at=now,
            how=how,
            customer_id=customer_id,
        ):
            fresh = bank_db.get_txn(session, txn.id)
            raise AlreadyApplied(_decided(fresh) if fresh else "Already decided.")
        # The line is ours; under the invoices' lock their open amounts stay as read until
        # commit: another line applied meanwhile to the same invoice is seen, and refused.
        bank_db.lock_invoices(session, [a.invoice_id for a in chosen])
        _check_choice(session, deps, txn, customer_id, chosen, currency)
        if left < 0:
            raise CashRefused("The chosen invoices take more than the bank line brought in.")
        paid_at = datetime.combine(txn.booked_on, time(), s.tz)
        base = f"{txn.account}/{txn.external_id}"
        refs = bank_db.invoice_refs(session, [a.invoice_id for a in chosen])
        rows = [
            Payment(
                source=SOURCE,
                external_id=_payment_id(base, refs[a.invoice_id]),
                customer_id=customer_id,
                invoice_id=a.invoice_id,
                amount_minor=a.amount_minor,
                currency=currency,
                paid_at=paid_at,
                status=PaymentStatus.SUCCEEDED,
                method="bank",
            )
            for a in chosen
        ]
        if left > 0:
            rows.append(
                Payment(
                    source=SOURCE,
                    external_id=_payment_id(base, "unapplied"),
                    customer_id=customer_id,
                    invoice_id=None,
                    amount_minor=left,
                    currency=currency,
                    paid_at=paid_at,
                    status=PaymentStatus.SUCCEEDED,
                    method="bank",
                )
            )
        over = bank_db.write_payments(session, rows)
        if over:
            raise CashRefused(
                f"That would pay {over[0].external_id} beyond its total; nothing was applied."
            )
        queue_books_payments(session, rows, by=by, now=now, tz=s.tz, txn=(txn.id, txn.account))
        after = {
            "customer_id": customer_id,
            "how": how,
            "allocations": [
                {"invoice_id": a.invoice_id, "amount_minor": a.amount_minor} for a in chosen
            ],
            "unapplied_minor": left,
            "currency": currency,
        } | ({"slack_user": slack_user} if slack_user else {})
        if on_behalf:
            after["on_behalf_of"] = on_behalf
        insert_audit(
            session,
            actor=by,
            event="cash_applied",
            entity="bank_txn",
            entity_id=str(txn.id),
            before={"status": txn.status},
            after=after,
            at=now,
        )
        key = payer_key(txn.payer_name)
        if key and how != "auto":  # only a person's decision teaches a payer name
            bank_db.learn_alias(session, key, customer_id, txn.id, now)
    applied = sum(a.amount_minor for a in chosen)
    message = f"Applied {format_money(applied, currency)} to {len(chosen)} invoice(s)" + (
        f"; {format_money(left, currency)} stays unapplied cash." if left else "."
    )
    return Applied(txn.id, customer_id, currency, chosen, left, message)


def _payment_id(base: str, part: str) -> str:
    """`account/line/invoice`, shortened with a digest when it would not fit the column
    (a long bank id and a long invoice id together), so it stays unique and stable."""
    full = f"{base}/{part}"
    if len(full) <= PAYMENT_ID_MAX:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:32]
    return f"{full[: PAYMENT_ID_MAX - 33]}~{digest}"


def _check_choice(
    session: Session,
    deps: ToolDeps,
    txn: BankTxn,
    customer_id: int,
    chosen: Sequence[Allocation],
    currency: str,
) -> None:
    cut = day_cut(max(today(deps.settings.tz), txn.booked_on), deps.settings.tz)
    open_now = {r.invoice_id: r for r in open_invoices(session, cut, customer_ids=[customer_id])}
    seen: dict[int, int] = {}
    for a in chosen:
        seen[a.invoice_id] = seen.get(a.invoice_id, 0) + a.amount_minor
    for a in chosen:
        inv = open_now.get(a.invoice_id)
        if inv is not None and seen[a.invoice_id] != a.amount_minor:
            raise CashRefused(
                f"{inv.number or inv.external_id} is chosen more than once; give it once, "
                f"with the amount together ({format_money(seen[a.invoice_id], currency)})."
            )
        if inv is None:
            raise CashRefused("A chosen invoice is not open, or not this customer's.")
        if inv.currency != currency:
            raise CashRefused(f"{inv.external_id} is in {inv.currency}, the line in {currency}.")
        if a.amount_minor <= 0 or a.amount_minor > inv.open_minor:
            raise CashRefused(
                f"{inv.external_id} has {format_money(inv.open_minor, inv.currency)} open."
            )


def leave(
    deps: ToolDeps,
    txn_id: int,
    by: str,
    *,
    now: datetime | None = None,
    slack_user: str | None = None,
) -> str:
    _move(deps, txn_id, by, BankTxnStatus.UNAPPLIED, BankTxnStatus.LEFT, now, slack_user)
    return "Left unapplied."


def reopen(deps: ToolDeps, txn_id: int, by: str, *, now: datetime | None = None) -> str:
    """A line left unapplied back to waiting, so its suggestion is offered again."""
    if _move(deps, txn_id, by, BankTxnStatus.LEFT, BankTxnStatus.UNAPPLIED, now, None):
        return "The suggestion is back on the card."
    return "Already waiting for a decision."


_MOVE_EVENTS = {BankTxnStatus.LEFT: "cash_left_unapplied", BankTxnStatus.UNAPPLIED: "cash_reopened"}


def _move(
    deps: ToolDeps,
    txn_id: int,
    by: str,
    start: str,
    end: str,
    now: datetime | None,
    slack_user: str | None,
) -> bool:
    """Move a line from `start` to `end` with its audit row, once however often it is asked.
    False when it is already waiting (`end` is unapplied); refused (AlreadyApplied) when it
    was decided otherwise or is unknown."""
    now = now or datetime.now(UTC)
    with transaction(deps.sessions) as session:
        if not bank_db.decide_if_unapplied(
            session, txn_id, from_status=(start,), status=end, by=by, at=now, how=None,
            customer_id=None,
        ):  # fmt: skip
            fresh = bank_db.get_txn(session, txn_id)
            if fresh is None:
                raise AlreadyApplied(f"bank line {txn_id} does not exist")
            if fresh.status == end == BankTxnStatus.UNAPPLIED:
                return False
            raise AlreadyApplied(_decided(fresh))
        insert_audit(
            session,
            actor=by,
            event=_MOVE_EVENTS[end],
            entity="bank_txn",
            entity_id=str(txn_id),
            before={"status": start},
            after={"status": end} | ({"slack_user": slack_user} if slack_user else {}),
            at=now,
        )
    return True


def auto_apply(
    deps: ToolDeps,
    txn_ids: Sequence[int],
    *,
    now: datetime | None = None,
    on_behalf: str | None = None,
    slack_user: str | None = None,
) -> list[Applied]:
    """Apply the lines whose suggestion reaches ARBOT_CASH_AUTO_APPLY_CONFIDENCE. The book
    is read once: a line whose suggestion touches an invoice an earlier line of this run
    paid is left for a person (its suggestion was worked out before that payment). `by`
    is who set the rule going (the finance user importing), named in the audit."""
    threshold = deps.settings.cash_auto_apply_confidence
    if threshold is None or not txn_ids:
        return []
    s = deps.settings
    with deps.sessions() as session:
        lines = bank_db.txns(session, ids=txn_ids, status=BankTxnStatus.UNAPPLIED)
        found = suggestions(session, s, today(s.tz), lines)
    by_id = {t.id: t for t in lines}
    touched: set[int] = set()
    done = []
    for txn_id, sug in found.items():
        if sug is None or not sug.allocations or sug.confidence < threshold:
            continue
        invoices = {a.invoice_id for a in sug.allocations}
        if invoices & touched:
            continue
        touched |= invoices
        try:
            done.append(
                apply(
                    deps,
                    txn_id,
                    AUTO,
                    how="auto",
                    on_behalf=on_behalf,
                    slack_user=slack_user,
                    now=now,
                    shown=suggestion_key(sug),
                    current=(by_id[txn_id], sug),
                )
            )
        except CashRefused:
            continue  # decided meanwhile, or the ledger moved: left for a person
    return done
