"""Stripe objects -> ledger staging rows (no I/O; a log line for metadata that is ignored).

The mapping, field by field, is documented in the README (Stripe sync section). Money stays
in the minor units Stripe gives; currencies are upper-cased ISO codes; Unix timestamps become
aware UTC datetimes; `due_date` becomes a date in the company time zone.

Objects may be `stripe.StripeObject`s (from the client) or plain dicts (tests, webhooks):
both support `in` and `[]`, which is all `_g` needs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from tools.slack_ids import slack_user_id_problem

log = logging.getLogger(__name__)

Obj = Any  # a StripeObject or a dict


def _g(obj: Obj, key: str) -> Any:
    return obj[key] if obj is not None and key in obj else None


def field_of(obj: Obj, key: str) -> Any:
    """obj[key], or None when absent (StripeObjects have no .get)."""
    return _g(obj, key)


def _ref(value: Any) -> str | None:
    """An expandable field: an id string, or the expanded object."""
    if value is None or isinstance(value, str):
        return value
    return str(value["id"])


def stamp(ts: int | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(int(ts), UTC)


def local_date(ts: int, tz: ZoneInfo) -> date:
    return datetime.fromtimestamp(int(ts), tz).date()


def _cur(code: str | None, default: str) -> str:
    return (code or default).upper()


def _owner(customer_id: str, value: Any) -> str | None:
    """The metadata's owner when it is a Slack user id; anything else is dropped, with a log
    line, since alerts for the account are DMed to it."""
    if value is None or value == "":
        return None
    problem = slack_user_id_problem(str(value).strip())
    if problem is not None:
        log.warning(
            "event=stripe_owner_ignored customer=%s field=metadata.owner_slack_id reason=%s",
            customer_id,
            problem,
        )
        return None
    return str(value).strip()


@dataclass(frozen=True)
class Mapper:
    """Mapping settings: the company time zone and the currency of currency-less customers."""

    tz: ZoneInfo
    default_currency: str = "USD"

    def customer(self, c: Obj) -> dict[str, Any]:
        meta = _g(c, "metadata") or {}
        email = _g(c, "email")
        return {
            "external_id": c["id"],
            "name": _g(c, "name") or email or c["id"],
            "email": email,
            "ap_email": _g(meta, "ap_email") or email,
            "segment": _g(meta, "segment"),
            "payment_terms_days": None,
            "currency": _cur(_g(c, "currency"), self.default_currency),
            "credit_limit_minor": None,
            "owner_slack_id": _owner(c["id"], _g(meta, "owner_slack_id")),
        }

    def customer_from_invoice(self, inv: Obj) -> dict[str, Any]:
        """A stand-in when an invoice names a customer the ledger has not seen (yet)."""
        email = _g(inv, "customer_email")
        ext = _ref(inv["customer"])
        return {
            "external_id": ext,
            "name": _g(inv, "customer_name") or email or ext,
            "email": email,
            "ap_email": email,
            "segment": None,
            "payment_terms_days": None,
            "currency": _cur(_g(inv, "currency"), self.default_currency),
            "credit_limit_minor": None,
            "owner_slack_id": None,
        }

    def invoice(self, inv: Obj) -> dict[str, Any] | None:
        """None for drafts and deleted invoices: they were never receivables."""
        if _g(inv, "status") in (None, "draft") or _g(inv, "deleted"):
            return None
        moves = _g(inv, "status_transitions")
        issued = stamp(_g(moves, "finalized_at") or inv["created"])
        assert issued is not None
        due_ts = _g(inv, "due_date")
        due = local_date(due_ts, self.tz) if due_ts else issued.astimezone(self.tz).date()
        return {
            "external_id": inv["id"],
            "customer_ext": _ref(inv["customer"]),
            "number": _g(inv, "number"),
            "currency": _cur(inv["currency"], self.default_currency),
            "total_minor": int(inv["total"]),
            "issued_at": issued,
            "due_on": max(due, issued.astimezone(self.tz).date()),
            "voided_at": stamp(_g(moves, "voided_at")),
            "written_off_at": stamp(_g(moves, "marked_uncollectible_at")),
            "payment_url": _g(inv, "hosted_invoice_url"),
        }

    def balance_payment(self, inv: Obj, row: dict[str, Any]) -> dict[str, Any] | None:
        """Customer credit balance Stripe applied when finalizing: a payment in the ledger.

        Stripe lowers `amount_due` by the pre-payment credit notes and by the customer's
        credit balance; the credit notes are synced on their own, the balance is this row.
        """
        applied = (
            int(inv["total"])
            - int(_g(inv, "amount_due") or 0)
            - int(_g(inv, "pre_payment_credit_notes_amount") or 0)
        )
        if applied <= 0:
            return None
        return {
            "external_id": f"{inv['id']}:balance",
            "customer_ext": row["customer_ext"],
            "invoice_ext": inv["id"],
            "amount_minor": applied,
            "currency": row["currency"],
            "paid_at": row["issued_at"],
            "status": "succeeded",
            "method": "customer_balance",
            "failure_reason": None,
        }

    def invoice_payment(self, p: Obj, customer_ext: str) -> dict[str, Any] | None:
        """A paid invoice payment is money received against that invoice."""
        if _g(p, "status") != "paid":
            return None
        moves = _g(p, "status_transitions")
        kind = _g(_g(p, "payment"), "type")
        return {
            "external_id": p["id"],
            "customer_ext": customer_ext,
            "invoice_ext": _ref(p["invoice"]),
            "amount_minor": int(_g(p, "amount_paid") or 0),
            "currency": _cur(p["currency"], self.default_currency),
            "paid_at": stamp(_g(moves, "paid_at") or p["created"]),
            "status": "succeeded",
            "method": "out_of_band" if kind == "payment_record" else "stripe",
            "failure_reason": None,
        }

    def failed_charge(self, ch: Obj, link: tuple[str | None, str | None]) -> dict[str, Any] | None:
        """A declined attempt: kept (status failed) for dunning-recovery figures, moves no money.

        Succeeded charges are not rows of their own: the invoice payment that they settle is.
        """
        if _g(ch, "status") != "failed":
            return None
        customer_ext = link[0] or _ref(_g(ch, "customer"))
        if customer_ext is None:
            return None
        message, code = _g(ch, "failure_message"), _g(ch, "failure_code")
        reason = " ".join(x for x in (message, f"({code})" if code else None) if x) or None
        return {
            "external_id": ch["id"],
            "customer_ext": customer_ext,
            "invoice_ext": link[1],
            "amount_minor": int(ch["amount"]),
            "currency": _cur(ch["currency"], self.default_currency),
            "paid_at": stamp(ch["created"]),
            "status": "failed",
            "method": _g(_g(ch, "payment_method_details"), "type"),
            "failure_reason": reason,
        }

    def refund(self, r: Obj, link: tuple[str | None, str | None]) -> dict[str, Any] | None:
        """Money given back on an invoice's charge: a negative payment on that invoice.

        Only refunds that succeeded, and only on charges that paid an invoice (others were
        never receivables).
        """
        if _g(r, "status") not in ("succeeded", "pending") or link[1] is None or link[0] is None:
            return None
        return {
            "external_id": r["id"],
            "customer_ext": link[0],
            "invoice_ext": link[1],
            "amount_minor": -int(r["amount"]),
            "currency": _cur(r["currency"], self.default_currency),
            "paid_at": stamp(r["created"]),
            "status": "succeeded",
            "method": "refund",
            "failure_reason": None,
        }

    def credit_note(self, cn: Obj) -> dict[str, Any]:
        """A voided credit note stays as a zero row, so re-syncs and history agree."""
        void = _g(cn, "status") == "void"
        return {
            "external_id": cn["id"],
            "invoice_ext": _ref(cn["invoice"]),
            "amount_minor": 0 if void else int(cn["total"]),
            "currency": _cur(cn["currency"], self.default_currency),
            "issued_at": stamp(_g(cn, "effective_at") or cn["created"]),
        }

    def dispute(self, d: Obj, link: tuple[str | None, str | None]) -> dict[str, Any] | None:
        if link[0] is None:
            return None
        status = _g(d, "status")
        closed = status in ("won", "lost", "warning_closed", "prevented")
        resolved = None
        if closed:
            # Stripe has no "closed at"; the last balance movement is when the money settled.
            moved = [int(t["created"]) for t in (_g(d, "balance_transactions") or [])]
            due = _g(_g(d, "evidence_details"), "due_by")
            resolved = stamp(max(moved) if moved else (due or d["created"]))
        return {
            "external_id": d["id"],
            "customer_ext": link[0],
            "invoice_ext": link[1],
            "amount_minor": int(d["amount"]),
            "currency": _cur(d["currency"], self.default_currency),
            "kind": "chargeback",
            "reason": _g(d, "reason"),
            "opened_at": stamp(d["created"]),
            "resolved_at": resolved,
            "outcome": status if closed else None,
            "evidence_due_at": stamp(_g(_g(d, "evidence_details"), "due_by")),
        }


def charge_of(obj: Obj) -> str | None:
    return _ref(_g(obj, "charge"))


def customer_of(obj: Obj) -> str | None:
    return _ref(_g(obj, "customer"))


def intent_of(obj: Obj) -> str | None:
    return _ref(_g(obj, "payment_intent"))


def invoice_payment_targets(p: Obj) -> list[str]:
    """The payment intent and/or charge an invoice payment points at."""
    pay = _g(p, "payment")
    return [x for x in (_ref(_g(pay, "payment_intent")), _ref(_g(pay, "charge"))) if x]
