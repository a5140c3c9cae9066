"""Write a batch of Stripe objects into the ledger, inside the caller's transaction.

One function serves the backfill (a page of one kind), the incremental sync and the webhook
(a batch of events), so an object lands the same way whichever path brought it. Rows go
through db.ingest's staging + upsert (idempotent: re-applying the same object changes
nothing), then db.settlement refreshes every invoice whose payments or credits moved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from db import ingest, upserts
from db import stripe_sql as sq
from tools.stripe_map import (
    Mapper,
    Obj,
    charge_of,
    customer_of,
    field_of,
    intent_of,
    invoice_payment_targets,
)

log = logging.getLogger(__name__)
SOURCE = "stripe"
# Parents before children: an invoice payment needs its invoice, a charge the link an
# invoice payment made, a refund or dispute the link its charge made.
KINDS = ("customer", "invoice", "invoice_payment", "charge", "refund", "credit_note", "dispute")


@dataclass(frozen=True)
class NewDispute:
    """A dispute the ledger had not seen before; what the dispute alert needs."""

    dispute_id: int
    external_id: str
    customer_external_id: str
    invoice_external_id: str | None
    amount_minor: int
    currency: str
    reason: str | None
    evidence_due_at: datetime | None


@dataclass
class Applied:
    objects: int = 0
    new_disputes: list[NewDispute] = field(default_factory=list)


def _stage(conn: Connection, entity: str, rows: Iterable[dict[str, Any] | None]) -> int:
    staged = [r for r in rows if r is not None]
    if staged:
        conn.info.setdefault(_DIRTY, set()).add(entity)
        ingest.stage_page(conn, entity, staged)
    return len(staged)


_DIRTY = "arbot_stripe_staged"


def _latest(objs: Sequence[Obj]) -> list[Obj]:
    """One object per id, the last one given winning (events arrive oldest first)."""
    return list({o["id"]: o for o in objs}.values())


# Given payment intent ids, their invoice payments (an API call): how a failed charge finds its
# invoice when no invoice payment event told us (Stripe sends none for an attempt that failed).
Resolver = Callable[[list[str]], list[Obj]]


class Applier:
    def __init__(
        self, mapper: Mapper, resolver: Resolver | None = None, *, listed: bool = False
    ) -> None:
        """`listed`: objects come straight from a list endpoint, so they are current and the
        guard against stale event snapshots (one query a page) can be skipped."""
        self.m = mapper
        self.resolver = resolver
        self.listed = listed

    def apply(self, conn: Connection, kind: str, objs: Sequence[Obj]) -> Applied:
        """Upsert these objects of one kind; return what changed for the caller to report."""
        objs = _latest(objs)
        result = Applied(objects=len(objs))
        if not objs:
            return result
        sq.prepare_stages(conn)
        getattr(self, f"_{kind}")(conn, objs, result)
        for over in ingest.refresh_touched(conn, source=SOURCE):
            # Stripe is the record; a payment and a post-payment credit note on one invoice
            # legitimately add up to more than its total until the refund arrives.
            log.info(
                "event=stripe_over_applied invoice=%s total=%s applied=%s",
                over.external_id,
                over.total_minor,
                over.applied_minor,
            )
        sq.clear_stages(conn, conn.info.pop(_DIRTY, set()))
        return result

    def apply_events(self, conn: Connection, events: Sequence[Obj]) -> Applied:
        """Apply events (oldest first): each object's newest snapshot, parents first."""
        by_kind: dict[str, list[Obj]] = {k: [] for k in KINDS}
        for event in events:
            kind = applied_kind(event)
            if kind is not None:
                by_kind[kind].append(event["data"]["object"])
        total = Applied(objects=0)
        for kind in KINDS:
            part = self.apply(conn, kind, by_kind[kind])
            total.objects += part.objects
            total.new_disputes += part.new_disputes
        return total

    # --- one method per kind ---------------------------------------------------------------

    def _customer(self, conn: Connection, objs: list[Obj], _r: Applied) -> None:
        _stage(conn, "customers", (self.m.customer(c) for c in objs if not _deleted(c)))
        upserts.write(conn, "customers", source=SOURCE)

    def _invoice(self, conn: Connection, objs: list[Obj], _r: Applied) -> None:
        pairs = [(o, row) for o in objs if (row := self.m.invoice(o)) is not None]
        if not pairs:
            return
        # Void and uncollectible are final in Stripe: an older snapshot (a late webhook)
        # must not clear a stamp a newer one set.
        ids = [row["external_id"] for _, row in pairs]
        kept = {} if self.listed else sq.invoice_stamps(conn, SOURCE, ids)
        for _, row in pairs:
            voided, written = kept.get(row["external_id"], (None, None))
            row["voided_at"] = row["voided_at"] or voided
            row["written_off_at"] = row["written_off_at"] or written
        wanted = {row["customer_ext"]: inv for inv, row in pairs}
        known = sq.existing_ids(conn, "customers", SOURCE, wanted.keys())
        missing = [self.m.customer_from_invoice(inv) for c, inv in wanted.items() if c not in known]
        if _stage(conn, "customers", missing):
            upserts.write(conn, "customers", source=SOURCE)
        _stage(conn, "invoices", (row for _, row in pairs))
        upserts.write(conn, "invoices", source=SOURCE)
        if _stage(conn, "payments", (self.m.balance_payment(inv, row) for inv, row in pairs)):
            upserts.write(conn, "payments", source=SOURCE)

    def _invoice_payment(self, conn: Connection, objs: list[Obj], _r: Applied) -> None:
        owners = sq.invoice_customers(conn, SOURCE, {_ref_id(p["invoice"]) for p in objs})
        links: dict[str, sq.Link] = {}
        rows = []
        for p in objs:
            inv = _ref_id(p["invoice"])
            cus = owners.get(inv)
            if cus is None:
                continue  # a draft's payment, or an invoice not synced: nothing to apply to
            for target in invoice_payment_targets(p):
                links[target] = (cus, inv)
            rows.append(self.m.invoice_payment(p, cus))
        sq.save_links(conn, links)
        if _stage(conn, "payments", rows):
            upserts.write(conn, "payments", source=SOURCE)

    def _charge(self, conn: Connection, objs: list[Obj], result: Applied) -> None:
        refs = {x for c in objs for x in (c["id"], intent_of(c)) if x}
        known = sq.links(conn, refs)
        unlinked = sorted(
            {pi for c in objs if (pi := intent_of(c)) and pi not in known and c["id"] not in known}
        )
        if unlinked and self.resolver is not None:
            self._invoice_payment(conn, self.resolver(unlinked), result)
            known = sq.links(conn, refs)
        links: dict[str, sq.Link] = {}
        rows = []
        for c in objs:
            link = known.get(c["id"]) or known.get(intent_of(c) or "") or (None, None)
            link = (link[0] or customer_of(c), link[1])
            links[c["id"]] = link
            rows.append(self.m.failed_charge(c, link))
        sq.save_links(conn, {k: v for k, v in links.items() if v[0] or v[1]})
        if _stage(conn, "payments", rows):
            upserts.write(conn, "payments", source=SOURCE)

    def _link_of(self, known: dict[str, sq.Link], obj: Obj) -> sq.Link:
        return known.get(charge_of(obj) or "") or known.get(intent_of(obj) or "") or (None, None)

    def _refund(self, conn: Connection, objs: list[Obj], _r: Applied) -> None:
        known = sq.links(conn, {x for r in objs for x in (charge_of(r), intent_of(r)) if x})
        if _stage(conn, "payments", (self.m.refund(r, self._link_of(known, r)) for r in objs)):
            upserts.write(conn, "payments", source=SOURCE)

    def _credit_note(self, conn: Connection, objs: list[Obj], _r: Applied) -> None:
        invoices = sq.existing_ids(conn, "invoices", SOURCE, {_ref_id(c["invoice"]) for c in objs})
        rows = [self.m.credit_note(c) for c in objs if _ref_id(c["invoice"]) in invoices]
        if _stage(conn, "credit_notes", rows):
            upserts.write(conn, "credit_notes", source=SOURCE)

    def _dispute(self, conn: Connection, objs: list[Obj], result: Applied) -> None:
        known = sq.links(conn, {x for d in objs for x in (charge_of(d), intent_of(d)) if x})
        before = sq.existing_ids(conn, "disputes", SOURCE, [d["id"] for d in objs])
        rows = [r for d in objs if (r := self.m.dispute(d, self._link_of(known, d)))]
        if not _stage(conn, "disputes", rows):
            return
        upserts.write(conn, "disputes", source=SOURCE)
        fresh = [r for r in rows if r["external_id"] not in before]
        ids = sq.dispute_ids(conn, SOURCE, [r["external_id"] for r in fresh])
        result.new_disputes += [
            NewDispute(
                dispute_id=ids[r["external_id"]],
                external_id=r["external_id"],
                customer_external_id=r["customer_ext"],
                invoice_external_id=r["invoice_ext"],
                amount_minor=r["amount_minor"],
                currency=r["currency"],
                reason=r["reason"],
                evidence_due_at=r["evidence_due_at"],
            )
            for r in fresh
            if r["external_id"] in ids
        ]


def _ref_id(value: Any) -> str:
    return value if isinstance(value, str) else str(value["id"])


def _deleted(obj: Obj) -> bool:
    return "deleted" in obj and bool(obj["deleted"])


def applied_kind(event: Obj) -> str | None:
    """The ledger kind an event carries, or None for types the ledger ignores."""
    obj = event["data"]["object"]
    kind = field_of(obj, "object")
    if kind not in KINDS or str(event["type"]).endswith(".deleted"):
        return None
    return str(kind)
