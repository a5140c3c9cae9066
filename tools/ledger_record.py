"""One AR of record: which source's row of an invoice the figures count.

Several sources can hold the same invoice (Stripe bills it, QuickBooks books it, a CSV export
repeats it). Rows are linked by the Stripe invoice id a books row carries, whatever either
system calls the customer (the id is the billing system's own name for the invoice); else by
the invoice number they carry when their customers are the same customer (`same_customer`);
else by customer name + total + issue date (the rule reconciliation matches by,
`fallback_key`). Sources are ranked: the AR of record first
(`ARBOT_LEDGER_OF_RECORD`; by default the accounting system when one holds invoices, else
Stripe, else CSV), then the others in that same default order. In each link
the best-ranked row counts and the others are shadowed.

A row that only a source other than the record holds still counts: money someone is owed is
not dropped because the books have not caught up; reconciliation lists it as `missing` on the
record's side, so the gap is seen and closed at the source.

Which rows count is decided here, when links are derived (after every sync or import and when
the setting changes), never when a figure is read: the dated sums stay the only thing AR,
aging and DSO read, and the answer cache keys on the ledger version this bumps.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.orm import Session

from db.link_keys import EVERYTHING, drop_pending, take_pending
from db.links import (
    Unlinked,
    bank_on_shadowed,
    counted_candidates,
    counted_sources,
    link_by_number,
    move_to_twin,
    set_shadowed,
    unlinked_rows,
)
from db.models import Payment
from db.stripe_sql import get_cursor, set_cursor
from tools.books_payment import cancel_unsent_writes, queue_books_payments
from tools.settings import Settings

ACCOUNTING = ("quickbooks", "xero")
DEFAULT_ORDER = (*ACCOUNTING, "stripe", "csv")
LABELS = {"quickbooks": "QuickBooks", "xero": "Xero", "stripe": "Stripe", "csv": "CSV"}
_STATE = "ledger:record"
_NOT_WORD = re.compile(r"[\W_]+")


def same_customer(name: str) -> str:
    """Customer name without case or punctuation: two sources' customers with one key are the
    same customer, for the number link and the fallback alike."""
    return _NOT_WORD.sub("", name.casefold())


def fallback_key(customer: str, total_minor: int, issued_at: datetime, tz: Any) -> str:
    """Customer (`same_customer`) + total + issue date in the company's zone: how an invoice
    without a shared number is recognised in another source."""
    name = same_customer(customer)
    return f"{name}|{total_minor}|{issued_at.astimezone(tz).date().isoformat()}"


def record_source(setting: str | None, held: list[str]) -> str | None:
    """The AR of record: the setting, else the first of the default order the ledger holds."""
    if setting:
        return setting
    return next((s for s in DEFAULT_ORDER if s in held), held[0] if held else None)


def ranked_sources(setting: str | None, held: list[str]) -> list[str]:
    """Every held source, best first: the record, then the default order, then the rest."""
    record = record_source(setting, held)
    order = [s for s in DEFAULT_ORDER if s in held]
    order += sorted(s for s in held if s not in DEFAULT_ORDER)
    return [record, *(s for s in order if s != record)] if record else order


def held_sources(conn: Connection) -> list[str]:
    """The invoice sources the ledger holds, one index probe per source name (a DISTINCT
    would read the whole invoice index after every one-row import)."""
    probe = text("SELECT 1 FROM invoices WHERE source = :s LIMIT 1")
    return [s for s in DEFAULT_ORDER if conn.execute(probe, {"s": s}).first() is not None]


def relink(engine: Engine, settings: Settings, *, written: bool = False) -> int:
    """Derive the links and the shadowed rows afresh, in one transaction; how many rows changed
    between counted and shadowed. A ledger of one source with nothing shadowed has nothing to
    link, and costs a few index probes. `written`: only the links of the invoices written
    since the last relink (db.link_keys.link_pending) and of renamed customers, which is
    what a sync changed; every link when the setting or the sources held changed since."""
    with engine.begin() as conn:
        if not written:
            return relink_in(conn, settings)
        seeds = take_pending(conn)
        found = get_cursor(conn, _STATE)
        before = json.loads(found) if found else {}
        whole = (
            EVERYTHING in seeds
            or before.get("setting") != settings.ledger_of_record
            or before.get("held") != held_sources(conn)
        )
        return relink_in(conn, settings, None if whole else seeds)


def relink_if_stale(engine: Engine, settings: Settings, migrated: bool) -> None:
    """Relink when a migration ran (it may have changed what links) or ARBOT_LEDGER_OF_RECORD
    is not the setting the links were derived under; else one cursor read."""
    if not migrated:
        with engine.connect() as conn:
            found = get_cursor(conn, _STATE)
        if found is None or json.loads(found).get("setting") == settings.ledger_of_record:
            return
    relink(engine, settings)


def relink_in(conn: Connection, settings: Settings, seeds: list[int] | None = None) -> int:
    """`relink` inside the caller's transaction; with `seeds` (invoice ids just written), only
    the rows that may link to them: their customers' invoices."""
    drop_pending(conn, seeds)
    held = held_sources(conn)
    found = get_cursor(conn, _STATE)
    before = json.loads(found) if found else {}
    if len(held) < 2 and not before.get("shadowed") and before.get("counted") == held:
        return 0
    ranked = ranked_sources(settings.ledger_of_record, held)
    scope = link_by_number(conn, ranked, same_customer, seeds)
    rows = unlinked_rows(conn, ranked, scope) if len(held) > 1 else []
    more = _shadowed_by_fallback(rows, settings.tz)
    changed, shadowed = set_shadowed(conn, more, scope)
    if seeds is not None:
        shadowed += int(before.get("shadowed") or 0)
    if not shadowed:
        counted = set(held)
    elif seeds is not None and not changed and "counted" in before:
        counted = set(before["counted"])  # no row changed side: no source did either
    else:
        counted = set(counted_sources(conn))
    state = {
        "setting": settings.ledger_of_record,
        "held": held,
        "record": record_source(settings.ledger_of_record, held),
        "counted": [s for s in ranked if s in counted],
        "shadowed": shadowed,
    }
    set_cursor(conn, _STATE, json.dumps(state))
    if changed:
        _move_bank_receipts(conn, settings)
    return changed


def _move_bank_receipts(conn: Connection, settings: Settings) -> None:
    """A bank receipt applied to a row that stops counting pays that row's counted twin (by
    Stripe invoice id, else the same customer's number, else amount + date, as rows link), so
    the money stays received; when the twin is the books' row, the receipt is queued to be
    written back to the books; a write-back still waiting for the row it left is cancelled, so
    only one set of books receives the money."""
    moved: list[int] = []
    for row in bank_on_shadowed(conn):
        key = same_customer(row.customer)
        mine = fallback_key(row.customer, row.total_minor, row.issued_at, settings.tz)
        twins = [
            c
            for c in counted_candidates(conn, row)
            if (row.ref and c.ref == row.ref)
            or (
                same_customer(c.customer) == key
                and (
                    (row.number and c.number == row.number)
                    or fallback_key(c.customer, c.total_minor, c.issued_at, settings.tz) == mine
                )
            )
        ]
        if twins:
            twin = min(
                twins, key=lambda c: (not row.ref or c.ref != row.ref, c.number != row.number, c.id)
            )
            move_to_twin(conn, row.payment_id, row.invoice_id, twin.id, twin.customer_id)
            moved.append(row.payment_id)
    if moved:
        with Session(bind=conn) as session:
            payments = list(session.scalars(select(Payment).where(Payment.id.in_(moved))))
            now = datetime.now(UTC)
            cancel_unsent_writes(session, [p.external_id for p in payments], by="relink", at=now)
            queue_books_payments(session, payments, by="relink", now=now, tz=settings.tz)
            session.flush()


def _shadowed_by_fallback(rows: list[Unlinked], tz: Any) -> list[int]:
    """Link the rows by customer + amount + date, one row per source in a link (two equal
    invoices of one customer on one day pair with two of another source, not four); the rows
    below the best rank of their link are shadowed."""
    if len({r.rank for r in rows}) < 2:
        return []
    by_key: dict[tuple[str, str], list[Unlinked]] = defaultdict(list)
    for r in rows:
        by_key[(r.currency, fallback_key(r.customer, r.total_minor, r.issued_at, tz))].append(r)
    shadowed: list[int] = []
    for group in by_key.values():
        if len(group) < 2:
            continue
        links: list[tuple[int, list[Unlinked]]] = []  # (mask of ranks held, rows)
        for r in sorted(group, key=lambda r: (r.rank, r.id)):
            for k, (mask, members) in enumerate(links):
                if not mask & r.mask:
                    links[k] = (mask | r.mask, [*members, r])
                    break
            else:
                links.append((r.mask, [r]))
        for _, members in links:
            shadowed += [r.id for r in members[1:]]  # sorted by rank: the first is the best
    return shadowed


def counted_labels(conn: Connection) -> list[str]:
    """The sources whose rows the figures count, as the last link derived them; before any
    link (one source), the sources the ledger holds."""
    found = get_cursor(conn, _STATE)
    sources = json.loads(found)["counted"] if found else held_sources(conn)
    return [LABELS.get(s, s) for s in sources]


def source_line(conn: Connection) -> str:
    """ "Source: QuickBooks" / "Source: Stripe + CSV": which source every figure comes from,
    the one line the answers, the digest and the CSV export print."""
    labels = counted_labels(conn)
    return f"Source: {' + '.join(labels) if labels else 'no invoices yet'}"
