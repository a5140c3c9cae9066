"""A small fake of the Stripe API on 127.0.0.1, driven by the real `stripe` client in tests.

Objects follow Stripe's published fixtures (`stripe_objects.json`, copied from the shared
reference): each object is the fixture of its kind with the fields that matter overridden, so
the sync under test sees real field names and nesting (`status_transitions`, `amount_remaining`,
`due_date`, `evidence_details.due_by`, invoice payments linking invoices to payment intents).

What it serves: list endpoints (newest first, `limit` / `starting_after` / `ending_before` /
`has_more`, `created[gt|gte|lt|lte]`, a few equality filters), retrieve by id, `/v1/events`,
and `POST /v1/invoices/{id}/mark_uncollectible` / `void` (recording the Idempotency-Key header).
Tests change the world with helpers (`pay_invoice`, `void_invoice`, `mark_uncollectible`,
`open_dispute`, ...) that update the objects and emit the matching events, and can make the
server answer 429 or 500 a number of times (`fail`).

Objects are stored as small override dicts and merged with the fixture only when served, so
the benchmark can hold 100,000 invoices without gigabytes of copies.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FIXTURES: dict[str, dict[str, Any]] = json.loads(
    (Path(__file__).with_name("stripe_objects.json")).read_text()
)
API_KEY = "sk_test_fake_arbot"
START = 1_767_225_600  # 2026-01-01T00:00:00Z
DAY = 86_400

# URL path segment -> object kind (the fixture key).
KINDS = {
    "customers": "customer",
    "invoices": "invoice",
    "invoice_payments": "invoice_payment",
    "payment_intents": "payment_intent",
    "charges": "charge",
    "credit_notes": "credit_note",
    "refunds": "refund",
    "disputes": "dispute",
    "events": "event",
}
PREFIX = {
    "customer": "cus",
    "invoice": "in",
    "invoice_payment": "inpay",
    "payment_intent": "pi",
    "charge": "ch",
    "credit_note": "cn",
    "refund": "re",
    "dispute": "dp",
    "event": "evt",
    "balance_transaction": "txn",
}
# Equality filters the list endpoints accept (a subset of Stripe's).
FILTERS = {"customer", "invoice", "charge", "payment_intent", "status", "type"}


def _template(kind: str) -> dict[str, Any]:
    base = dict(FIXTURES[kind])
    base["livemode"] = False
    base["metadata"] = {}
    return base


TEMPLATES = {kind: _template(kind) for kind in PREFIX if kind in FIXTURES}


@dataclass
class Failure:
    status: int
    times: int
    path: str
    after: int
    should_retry: bool | None
    message: str | None = None


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int = 200


@dataclass
class _Store:
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    order: dict[str, list[str]] = field(default_factory=dict)
    position: dict[str, dict[str, int]] = field(default_factory=dict)

    unsorted: set[str] = field(default_factory=set)

    def add(self, kind: str, obj: dict[str, Any]) -> None:
        objs = self.objects.setdefault(kind, {})
        ids = self.order.setdefault(kind, [])
        if ids and objs[ids[-1]]["created"] > obj["created"]:
            self.unsorted.add(kind)  # back-dated by a test: re-sort before the next list
        objs[obj["id"]] = obj
        self.position.setdefault(kind, {})[obj["id"]] = len(ids)
        ids.append(obj["id"])

    def ordered(self, kind: str) -> list[str]:
        """Ids oldest first by `created` (ties in creation order), as Stripe sorts lists."""
        ids = self.order.setdefault(kind, [])
        if kind in self.unsorted:
            objs = self.objects[kind]
            ids.sort(key=lambda i: objs[i]["created"])  # stable: ties keep creation order
            self.position[kind] = {i: n for n, i in enumerate(ids)}
            self.unsorted.discard(kind)
        return ids


class FakeStripe:
    """The fake API plus the helpers tests use to change what it holds."""

    def __init__(self, *, now: int = START, api_key: str = API_KEY) -> None:
        self.now = now
        self.api_key = api_key
        self.requests: list[Recorded] = []
        self.idempotency_keys: list[tuple[str, str | None]] = []
        self.failures: list[Failure] = []
        self.record_requests = True
        self._store = _Store()
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- server ------------------------------------------------------------------------------

    def start(self) -> FakeStripe:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        path: str = "/v1/",
        after: int = 0,
        should_retry: bool | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next `times` requests under `path` (after `after` good ones) with `status`,
        and `message` as the error's text when given (a 4xx is then an invalid request)."""
        with self._lock:
            self.failures.append(Failure(status, times, path, after, should_retry, message))

    def clear_failures(self) -> None:
        with self._lock:
            self.failures.clear()

    def list_requests(self, resource: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == "GET" and r.path == f"/v1/{resource}"]

    # --- reading -----------------------------------------------------------------------------

    def get(self, kind: str, object_id: str) -> dict[str, Any]:
        """The object as the API serves it."""
        with self._lock:
            return self._render(kind, self._store.objects[kind][object_id])

    def all(self, kind: str) -> list[dict[str, Any]]:
        """Every object of a kind, oldest first, as served."""
        with self._lock:
            objs = self._store.objects.get(kind, {})
            return [self._render(kind, objs[i]) for i in self._store.ordered(kind)]

    def events(self) -> list[dict[str, Any]]:
        return self.all("event")

    def _render(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        if kind == "event":
            return obj
        return {**TEMPLATES[kind], **obj}

    # --- world changes -----------------------------------------------------------------------

    def _id(self, kind: str) -> str:
        return f"{PREFIX[kind]}_{next(self._ids):014d}"

    def _at(self, at: int | None) -> int:
        return self.now if at is None else at

    def _emit(self, type_: str, kind: str, obj: dict[str, Any], at: int) -> dict[str, Any]:
        event = {
            "id": self._id("event"),
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": at,
            "data": {"object": copy.deepcopy(self._render(kind, obj))},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
        }
        self._store.add("event", event)
        return event

    def add_customer(
        self,
        name: str | None = "Acme Corp",
        *,
        email: str | None = "ap@acme.example.com",
        currency: str | None = "usd",
        metadata: dict[str, str] | None = None,
        at: int | None = None,
        emit: bool = True,
    ) -> dict[str, Any]:
        with self._lock:
            at = self._at(at)
            obj = {
                "id": self._id("customer"),
                "name": name,
                "email": email,
                "currency": currency,
                "created": at,
                "metadata": metadata or {},
                "invoice_prefix": None,
                "discount": None,
            }
            self._store.add("customer", obj)
            if emit:
                self._emit("customer.created", "customer", obj, at)
            return self._render("customer", obj)

    def add_invoice(
        self,
        customer: str,
        total: int,
        *,
        currency: str = "usd",
        at: int | None = None,
        due_date: int | None = None,
        days_until_due: int | None = 30,
        number: str | None = None,
        draft: bool = False,
        emit: bool = True,
    ) -> dict[str, Any]:
        """A finalized (open) invoice, or a draft; due `days_until_due` after `at`."""
        with self._lock:
            at = self._at(at)
            inv_id = self._id("invoice")
            if due_date is None and days_until_due is not None:
                due_date = at + days_until_due * DAY
            obj = {
                "id": inv_id,
                "customer": customer,
                "currency": currency,
                "created": at,
                "effective_at": None if draft else at,
                "number": None if draft else (number or f"ARB-{next(self._ids):06d}"),
                "status": "draft" if draft else "open",
                "collection_method": "send_invoice" if days_until_due else "charge_automatically",
                "due_date": due_date,
                "total": total,
                "subtotal": total,
                "subtotal_excluding_tax": total,
                "total_excluding_tax": total,
                "amount_due": total,
                "amount_paid": 0,
                "amount_remaining": total,
                "amount_overpaid": 0,
                "pre_payment_credit_notes_amount": 0,
                "post_payment_credit_notes_amount": 0,
                "starting_balance": 0,
                "ending_balance": None if draft else 0,
                "hosted_invoice_url": None
                if draft
                else f"https://invoice.stripe.com/i/acct_fake/{inv_id}",
                "invoice_pdf": None,
                "last_finalization_error": None,
                "from_invoice": None,
                "parent": None,
                "period_start": at,
                "period_end": at,
                "webhooks_delivered_at": at,
                "next_payment_attempt": None,
                "lines": {
                    "object": "list",
                    "data": [
                        {
                            "id": f"il_{inv_id[3:]}",
                            "object": "line_item",
                            "amount": total,
                            "currency": currency,
                            "description": "Subscription",
                            "invoice": inv_id,
                            "quantity": 1,
                        }
                    ],
                    "has_more": False,
                    "url": f"/v1/invoices/{inv_id}/lines",
                },
                "status_transitions": {
                    "finalized_at": None if draft else at,
                    "marked_uncollectible_at": None,
                    "paid_at": None,
                    "voided_at": None,
                },
            }
            self._store.add("invoice", obj)
            if emit:
                self._emit("invoice.created", "invoice", obj, at)
                if not draft:
                    self._emit("invoice.finalized", "invoice", obj, at)
            return self._render("invoice", obj)

    def _invoice(self, invoice_id: str) -> dict[str, Any]:
        return self._store.objects["invoice"][invoice_id]

    def _transition(self, inv: dict[str, Any], key: str, at: int) -> None:
        inv["status_transitions"] = {**inv["status_transitions"], key: at}

    def _attempt(
        self,
        inv: dict[str, Any],
        amount: int,
        at: int,
        *,
        failure: tuple[str, str] | None,
        method: str,
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        """A payment intent with one charge, attached to the invoice by an invoice payment."""
        pi_id, ch_id = self._id("payment_intent"), self._id("charge")
        failed = failure is not None
        charge = {
            "id": ch_id,
            "amount": amount,
            "amount_captured": 0 if failed else amount,
            "captured": not failed,
            "paid": not failed,
            "status": "failed" if failed else "succeeded",
            "failure_code": failure[0] if failure else None,
            "failure_message": failure[1] if failure else None,
            "outcome": {
                **TEMPLATES["charge"]["outcome"],
                "type": "issuer_declined" if failed else "authorized",
                "reason": failure[0] if failure else None,
            },
            "created": at,
            "currency": inv["currency"],
            "customer": inv["customer"],
            "payment_intent": pi_id,
            "description": f"Payment for Invoice {inv.get('number')}",
            "balance_transaction": None if failed else self._id("balance_transaction"),
            "payment_method_details": {
                **TEMPLATES["charge"]["payment_method_details"],
                "type": method,
            },
            "refunds": {
                "object": "list",
                "data": [],
                "has_more": False,
                "url": f"/v1/charges/{ch_id}/refunds",
            },
            "source": None,
            "receipt_url": None,
        }
        intent = {
            "id": pi_id,
            "amount": amount,
            "amount_received": 0 if failed else amount,
            "created": at,
            "currency": inv["currency"],
            "customer": inv["customer"],
            "latest_charge": ch_id,
            "status": "requires_payment_method" if failed else "succeeded",
            "last_payment_error": (
                {
                    "type": "card_error",
                    "code": failure[0],
                    "message": failure[1],
                    "charge": ch_id,
                }
                if failure
                else None
            ),
            "canceled_at": None,
            "client_secret": f"{pi_id}_secret_fake",
            "payment_method_types": [method],
            "next_action": None,
        }
        payment = {
            "id": self._id("invoice_payment"),
            "amount_paid": None if failed else amount,
            "amount_requested": amount,
            "created": at,
            "currency": inv["currency"],
            "invoice": inv["id"],
            "is_default": True,
            "payment": {"type": "payment_intent", "payment_intent": pi_id},
            "status": "open" if failed else "paid",
            "status_transitions": {"canceled_at": None, "paid_at": None if failed else at},
        }
        self._store.add("payment_intent", intent)
        self._store.add("charge", charge)
        self._store.add("invoice_payment", payment)
        return intent, charge, payment

    def pay_invoice(
        self,
        invoice_id: str,
        amount: int | None = None,
        *,
        at: int | None = None,
        method: str = "card",
        emit: bool = True,
    ) -> dict[str, Any]:
        """Pay `amount` (default: what remains); returns the succeeded charge."""
        with self._lock:
            at = self._at(at)
            inv = self._invoice(invoice_id)
            assert inv["status"] in ("open", "uncollectible"), f"cannot pay a {inv['status']}"
            amount = inv["amount_remaining"] if amount is None else amount
            intent, charge, payment = self._attempt(inv, amount, at, failure=None, method=method)
            inv["amount_paid"] += amount
            inv["amount_remaining"] = inv["amount_due"] - inv["amount_paid"]
            inv["attempted"] = True
            if inv["amount_remaining"] <= 0:
                inv["status"] = "paid"
                self._transition(inv, "paid_at", at)
            if emit:
                self._emit("payment_intent.succeeded", "payment_intent", intent, at)
                self._emit("charge.succeeded", "charge", charge, at)
                self._emit("invoice_payment.paid", "invoice_payment", payment, at)
                self._emit("invoice.payment_succeeded", "invoice", inv, at)
                self._emit(
                    "invoice.paid" if inv["status"] == "paid" else "invoice.updated",
                    "invoice",
                    inv,
                    at,
                )
            return self._render("charge", charge)

    def fail_payment(
        self,
        invoice_id: str,
        *,
        at: int | None = None,
        code: str = "card_declined",
        message: str = "Your card was declined.",
        emit: bool = True,
    ) -> dict[str, Any]:
        """A declined attempt on the invoice's remaining amount; returns the failed charge."""
        with self._lock:
            at = self._at(at)
            inv = self._invoice(invoice_id)
            intent, charge, _ = self._attempt(
                inv, inv["amount_remaining"], at, failure=(code, message), method="card"
            )
            inv["attempted"] = True
            inv["attempt_count"] = int(inv.get("attempt_count") or 0) + 1
            if emit:
                self._emit("payment_intent.payment_failed", "payment_intent", intent, at)
                self._emit("charge.failed", "charge", charge, at)
                self._emit("invoice.payment_failed", "invoice", inv, at)
            return self._render("charge", charge)

    def void_invoice(self, invoice_id: str, *, at: int | None = None) -> dict[str, Any]:
        with self._lock:
            at = self._at(at)
            inv = self._invoice(invoice_id)
            assert inv["status"] == "open", f"cannot void a {inv['status']} invoice"
            inv["status"] = "void"
            inv["amount_remaining"] = 0
            self._transition(inv, "voided_at", at)
            self._emit("invoice.voided", "invoice", inv, at)
            return self._render("invoice", inv)

    def mark_uncollectible(self, invoice_id: str, *, at: int | None = None) -> dict[str, Any]:
        with self._lock:
            at = self._at(at)
            inv = self._invoice(invoice_id)
            assert inv["status"] == "open", f"cannot write off a {inv['status']} invoice"
            inv["status"] = "uncollectible"
            self._transition(inv, "marked_uncollectible_at", at)
            self._emit("invoice.marked_uncollectible", "invoice", inv, at)
            return self._render("invoice", inv)

    def add_credit_note(
        self, invoice_id: str, amount: int, *, at: int | None = None, reason: str | None = None
    ) -> dict[str, Any]:
        """A credit note; before payment it lowers what is due, after payment it is refunded."""
        with self._lock:
            at = self._at(at)
            inv = self._invoice(invoice_id)
            pre = inv["status"] == "open"
            note = {
                "id": self._id("credit_note"),
                "amount": amount,
                "subtotal": amount,
                "subtotal_excluding_tax": amount,
                "total": amount,
                "created": at,
                "effective_at": at,
                "currency": inv["currency"],
                "customer": inv["customer"],
                "invoice": invoice_id,
                "number": f"{inv.get('number')}-CN-{next(self._ids):02d}",
                "reason": reason,
                "status": "issued",
                "type": "pre_payment" if pre else "post_payment",
                "pre_payment_amount": amount if pre else 0,
                "post_payment_amount": 0 if pre else amount,
                "refunds": [],
                "voided_at": None,
                "lines": {
                    "object": "list",
                    "data": [],
                    "has_more": False,
                    "url": "/v1/credit_notes/x/lines",
                },
            }
            self._store.add("credit_note", note)
            if pre:
                inv["amount_due"] -= amount
                inv["pre_payment_credit_notes_amount"] += amount
                inv["amount_remaining"] = inv["amount_due"] - inv["amount_paid"]
                if inv["amount_remaining"] <= 0:
                    inv["status"] = "paid"
                    self._transition(inv, "paid_at", at)
            else:
                inv["post_payment_credit_notes_amount"] += amount
            self._emit("credit_note.created", "credit_note", note, at)
            self._emit("invoice.updated", "invoice", inv, at)
            return self._render("credit_note", note)

    def refund_charge(
        self, charge_id: str, amount: int | None = None, *, at: int | None = None
    ) -> dict[str, Any]:
        with self._lock:
            at = self._at(at)
            charge = self._store.objects["charge"][charge_id]
            amount = charge["amount"] if amount is None else amount
            refund = {
                "id": self._id("refund"),
                "amount": amount,
                "charge": charge_id,
                "payment_intent": charge["payment_intent"],
                "created": at,
                "currency": charge["currency"],
                "status": "succeeded",
                "balance_transaction": self._id("balance_transaction"),
            }
            self._store.add("refund", refund)
            charge["amount_refunded"] = int(charge.get("amount_refunded") or 0) + amount
            charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
            self._emit("refund.created", "refund", refund, at)
            self._emit("charge.refunded", "charge", charge, at)
            return self._render("refund", refund)

    def open_dispute(
        self,
        charge_id: str,
        *,
        amount: int | None = None,
        reason: str = "fraudulent",
        at: int | None = None,
        evidence_days: int = 7,
    ) -> dict[str, Any]:
        with self._lock:
            at = self._at(at)
            charge = self._store.objects["charge"][charge_id]
            dispute = {
                "id": self._id("dispute"),
                "amount": charge["amount"] if amount is None else amount,
                "charge": charge_id,
                "payment_intent": charge["payment_intent"],
                "created": at,
                "currency": charge["currency"],
                "reason": reason,
                "status": "needs_response",
                "balance_transactions": [],
                "evidence_details": {
                    **TEMPLATES["dispute"]["evidence_details"],
                    "due_by": at + evidence_days * DAY,
                },
                "is_charge_refundable": False,
            }
            self._store.add("dispute", dispute)
            charge["disputed"] = True
            self._emit("charge.dispute.created", "dispute", dispute, at)
            return self._render("dispute", dispute)

    def close_dispute(
        self, dispute_id: str, status: str = "lost", *, at: int | None = None
    ) -> dict[str, Any]:
        with self._lock:
            at = self._at(at)
            dispute = self._store.objects["dispute"][dispute_id]
            dispute["status"] = status
            txn = {
                **TEMPLATES["balance_transaction"],
                "id": self._id("balance_transaction"),
                "amount": -dispute["amount"] if status == "lost" else 0,
                "created": at,
                "currency": dispute["currency"],
                "reporting_category": "dispute",
                "type": "adjustment",
                "source": dispute_id,
            }
            dispute["balance_transactions"] = [*dispute["balance_transactions"], txn]
            self._emit("charge.dispute.closed", "dispute", dispute, at)
            return self._render("dispute", dispute)

    # --- the HTTP side -----------------------------------------------------------------------

    def _take_failure(self, path: str) -> Failure | None:
        with self._lock:
            for f in self.failures:
                if not path.startswith(f.path):
                    continue
                if f.after > 0:
                    f.after -= 1
                    return None
                f.times -= 1
                if f.times <= 0:
                    self.failures.remove(f)
                return f
        return None

    def _list(self, kind: str, query: dict[str, str]) -> dict[str, Any]:
        limit = max(1, min(100, int(query.get("limit", "10"))))
        ids = self._store.ordered(kind)
        objs = self._store.objects.get(kind, {})
        pos = self._store.position.get(kind, {})
        created = {
            op: int(query[f"created[{op}]"])
            for op in ("gt", "gte", "lt", "lte")
            if f"created[{op}]" in query
        }
        if "created" in query:
            created["gte"] = created["lte"] = int(query["created"])
        filters = {k: v for k, v in query.items() if k in FILTERS}
        types = [v for k, v in query.items() if k.startswith("types[")]

        def keep(obj: dict[str, Any]) -> bool:
            c = obj["created"]
            if ("gt" in created and c <= created["gt"]) or (
                "gte" in created and c < created["gte"]
            ):
                return False
            if ("lt" in created and c >= created["lt"]) or (
                "lte" in created and c > created["lte"]
            ):
                return False
            if types and obj.get("type") not in types:
                return False
            if "payment[payment_intent]" in query:
                paid_by = (obj.get("payment") or {}).get("payment_intent")
                if paid_by != query["payment[payment_intent]"]:
                    return False
            return all(str(obj.get(k)) == v for k, v in filters.items())

        # Newest first, like Stripe: walk the creation order backwards.
        if "ending_before" in query:
            start = pos[query["ending_before"]] + 1
            picked = [objs[i] for i in ids[start:] if keep(objs[i])]
            page = picked[:limit][::-1]
            has_more = len(picked) > limit
        else:
            start = pos[query["starting_after"]] - 1 if "starting_after" in query else len(ids) - 1
            page, has_more = [], False
            for index in range(start, -1, -1):
                obj = objs[ids[index]]
                if keep(obj):
                    if len(page) == limit:
                        has_more = True
                        break
                    page.append(obj)
        return {
            "object": "list",
            "data": [self._render(kind, o) for o in page],
            "has_more": has_more,
            "url": f"/v1/{next(k for k, v in KINDS.items() if v == kind)}",
        }

    def handle(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        if self.record_requests:
            with self._lock:
                self.requests.append(Recorded(method, path, query, headers))
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return 401, _error("invalid_request_error", "Invalid API Key provided."), {}
        failure = self._take_failure(path)
        if failure is not None:
            extra = {}
            if failure.should_retry is not None:
                extra["Stripe-Should-Retry"] = "true" if failure.should_retry else "false"
            if failure.status == 429:
                body = _error(
                    "invalid_request_error", "Too many requests, slow down.", "rate_limit"
                )
            elif failure.message is not None:
                kind = "invalid_request_error" if failure.status < 500 else "api_error"
                body = _error(kind, failure.message)
            else:
                body = _error("api_error", "Something went wrong on Stripe's end.")
            if self.record_requests:
                self.requests[-1].status = failure.status
            return failure.status, body, extra
        parts = path.strip("/").split("/")
        if len(parts) < 2 or parts[0] != "v1" or parts[1] not in KINDS:
            return 404, _error("invalid_request_error", f"Unrecognized request URL ({path})."), {}
        kind = KINDS[parts[1]]
        with self._lock:
            if method == "GET" and len(parts) == 2:
                return 200, self._list(kind, query), {}
            objs = self._store.objects.get(kind, {})
            if len(parts) >= 3 and parts[2] not in objs:
                return 404, _error("invalid_request_error", f"No such {kind}: '{parts[2]}'"), {}
            if method == "GET" and len(parts) == 3:
                return 200, self._render(kind, objs[parts[2]]), {}
            if method == "POST" and kind == "invoice" and len(parts) == 4:
                action = parts[3]
                self.idempotency_keys.append(
                    (f"{parts[2]}/{action}", headers.get("idempotency-key"))
                )
                inv = objs[parts[2]]
                if action in ("mark_uncollectible", "void"):
                    if inv["status"] == ("uncollectible" if action != "void" else "void"):
                        return 200, self._render(kind, inv), {}
                    if inv["status"] != "open":
                        return (
                            400,
                            _error(
                                "invalid_request_error",
                                f"You can only {action.replace('_', ' ')} an open invoice; "
                                f"this invoice is {inv['status']}.",
                            ),
                            {},
                        )
                    if action == "void":
                        return 200, self.void_invoice(parts[2]), {}
                    return 200, self.mark_uncollectible(parts[2]), {}
        return 404, _error("invalid_request_error", f"Unrecognized request URL ({path})."), {}


def _error(type_: str, message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"type": type_, "message": message, "code": code}}


class _Handler(BaseHTTPRequestHandler):
    owner: FakeStripe
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self, method: str) -> None:
        split = urlsplit(self.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            query.update(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, body, extra = self.owner.handle(method, split.path, query, headers)
        payload = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Request-Id", f"req_{id(payload):x}")
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")
