"""Reconciliation: the same invoices as each source reports them, compared at an as-of date.

Invoices are the same invoice across sources when they carry the same number and their
customers are the same customer (`same_customer`, as the ledger links them), a books invoice
carrying a Stripe invoice id counting as that Stripe invoice's, whatever the books call its
customer; those without one, or left unmatched by number, are matched by customer name, total
and issue date (names compared without case or punctuation). For each matched invoice the
sources are compared and every disagreement is one difference:

- missing: a source holding invoices has no such invoice at D;
- status_differs: open / paid / void / written_off differ;
- amount_differs: among sources where it is not void, the totals differ, or the statuses agree
  and the open amounts do not (a payment one side lacks);
- bank_not_in_books: a bank receipt applied to an invoice (a `bank` payment) whose payment the
  books do not have: the books' row of that invoice (the accounting source, else the AR of
  record) has no payment of the same amount from its own source, or the books lack the invoice.

It is a report, never a fix: nothing in the ledger changes. AR per source is the sum of the
open amounts listed, so each figure can be traced to its rows (`csv_rows`).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from pydantic import BaseModel, Field

from db.invoice_states import (
    InvoiceState,
    bank_receipts,
    books_rows,
    in_other_currencies,
    states_to_compare,
)
from tools.clock import AsOfDate, day_cut, today
from tools.deps import ToolDeps
from tools.ledger_record import (
    ACCOUNTING,
    fallback_key,
    held_sources,
    record_source,
    same_customer,
)
from tools.money import format_major

KINDS = ("missing", "amount_differs", "status_differs", "bank_not_in_books")


class ReconcileError(ValueError):
    """A comparison that cannot be made (a named source holds no invoices); said in words."""


class ReconcileInput(BaseModel):
    as_of: AsOfDate | None = Field(
        None, description="end-of-day date to compare at; today if empty"
    )
    sources: list[str] | None = Field(None, description="sources to compare; all when empty")
    currency: str | None = Field(None, description="currency compared; the reporting one if empty")


class Side(BaseModel):
    id: str
    total_minor: int
    open_minor: int
    status: str
    currency: str | None = None  # when not the comparison's: a twin in another currency


class Difference(BaseModel):
    kind: str
    number: str
    sides: dict[str, Side | None]


class Reconciliation(BaseModel):
    as_of: date
    currency: str
    sources: list[str]
    ar_minor: dict[str, int]
    differences: list[Difference]

    @property
    def totals(self) -> dict[str, int]:
        counts = dict.fromkeys(KINDS, 0)
        for d in self.differences:
            counts[d.kind] += 1
        return counts

    @property
    def in_balance(self) -> bool:
        return not self.differences

    def as_json(self) -> dict[str, Any]:
        """The `arbot reconcile --json` document: amounts as decimal strings, major units."""

        cur = self.currency

        def money(minor: int) -> str:
            return format_major(minor, cur)

        return {
            "as_of": self.as_of.isoformat(),
            "currency": self.currency,
            "sources": {s: {"ar_total": money(self.ar_minor[s])} for s in self.sources},
            "differences": [
                {
                    "kind": d.kind,
                    "number": d.number,
                    "sources": {
                        s: None
                        if side is None
                        else {
                            "id": side.id,
                            "total": format_major(side.total_minor, side.currency or cur),
                            "open": format_major(side.open_minor, side.currency or cur),
                            "status": side.status,
                        }
                        for s, side in d.sides.items()
                    },
                }
                for d in self.differences
            ],
            "totals": self.totals,
        }

    def csv_rows(self) -> list[list[str | None]]:
        """One row per difference and source, the header first."""
        rows: list[list[str | None]] = [
            ["kind", "number", "source", "id", "total", "open", "status"]
        ]
        for d in self.differences:
            for source, side in d.sides.items():
                if side is None:
                    rows.append([d.kind, d.number, source, None, None, None, "missing"])
                else:
                    rows.append(
                        [
                            d.kind,
                            d.number,
                            source,
                            side.id,
                            format_major(side.total_minor, side.currency or self.currency),
                            format_major(side.open_minor, side.currency or self.currency),
                            side.status,
                        ]
                    )
        return rows


def _fallback_key(state: InvoiceState, tz: Any) -> str:
    return fallback_key(state.customer, state.total_minor, state.issued_at, tz)


def sources_held(deps: ToolDeps) -> list[str]:
    with deps.engine.connect() as conn:
        return sorted(held_sources(conn))


def reconcile(deps: ToolDeps, args: ReconcileInput) -> Reconciliation:
    tz = deps.settings.tz
    day = args.as_of or today(tz)
    currency = (args.currency or deps.settings.reporting_currency).upper()
    with deps.engine.connect() as conn:
        held = sorted(held_sources(conn))
        empty = [s for s in args.sources or [] if s not in held]
        if empty:
            raise ReconcileError(
                f"the ledger holds no invoices from {', '.join(empty)}; sources held: "
                f"{', '.join(held) or 'none'}"
            )
        sources = args.sources or held
        cut = day_cut(day, tz)
        sums, states = states_to_compare(conn, cut=cut, currency=currency, sources=sources)
        books = next((s for s in ACCOUNTING if s in held), None)
        books = books or record_source(deps.settings.ledger_of_record, held)
        unbooked = (
            _bank_not_in_books(conn, cut, currency, sources, books, tz) if books in sources else []
        )
        lacking = sorted({n for st in states if (n := (st.number or "").strip())})
        twins = in_other_currencies(
            conn, cut=cut, currency=currency, sources=sources, numbers=lacking
        )
    ar = dict.fromkeys(sources, 0) | sums
    groups: dict[str, dict[str, InvoiceState]] = defaultdict(dict)
    unnumbered: list[InvoiceState] = []
    labels: dict[tuple[str, str], str] = {}  # (number, customer key) -> its group
    for st in states:
        number = (st.number or "").strip()
        if not number:
            unnumbered.append(st)
            continue
        whose = same_customer(st.link_customer or st.customer)
        key = labels.get((number, whose))
        if key is None:  # another customer's invoice of one number is another invoice
            key = number if number not in groups else f"{number} ({st.customer})"
            labels[(number, whose)] = key
        if st.source not in groups[key]:
            groups[key][st.source] = st
        else:
            unnumbered.append(st)
    _match_by_fallback(groups, unnumbered, tz)
    foreign = _add_currency_twins(groups, twins, len(sources))
    differences = [
        d for key in sorted(groups) for d in _compare(key, groups[key], sources, foreign.get(key))
    ]
    differences += unbooked
    return Reconciliation(
        as_of=day, currency=currency, sources=sources, ar_minor=ar, differences=differences
    )


def _match_by_fallback(
    groups: dict[str, dict[str, InvoiceState]], extra: list[InvoiceState], tz: Any
) -> None:
    """Join groups (and number-less invoices) that no number matched, by customer + total +
    date, when they come from different sources."""
    incomplete = [k for k, g in groups.items() if len(g) == 1]
    by_fallback: dict[str, str] = {}
    for key in incomplete:
        (state,) = groups[key].values()
        fb = _fallback_key(state, tz)
        target = by_fallback.get(fb)
        if target is not None and state.source not in groups[target]:
            groups[target][state.source] = state
            del groups[key]
        elif target is None:
            by_fallback[fb] = key
    for state in extra:
        fb = _fallback_key(state, tz)
        target = by_fallback.get(fb)
        if target is not None and state.source not in groups[target]:
            groups[target][state.source] = state
            continue
        own = f"{state.customer} {state.issued_at.astimezone(tz).date()} ({state.external_id})"
        groups[own][state.source] = state
        by_fallback.setdefault(fb, own)


def _add_currency_twins(
    groups: dict[str, dict[str, InvoiceState]],
    twins: list[tuple[InvoiceState, str]],
    wanted: int,
) -> dict[str, dict[str, str]]:
    """Put into each group missing a source that source's invoice of the same number and
    customer in another currency, if it has one: the ledger never links those, so both count,
    and the comparison shows them side by side as amounts that differ. Group key -> {source:
    its currency}."""
    by_number: dict[tuple[str, str], list[tuple[InvoiceState, str]]] = defaultdict(list)
    for st, cur in twins:
        by_number[((st.number or "").strip(), same_customer(st.customer))].append((st, cur))
    foreign: dict[str, dict[str, str]] = {}
    for key, group in groups.items():
        if len(group) >= wanted:
            continue
        first = next(iter(group.values()))
        for st, cur in by_number.get(
            ((first.number or "").strip(), same_customer(first.customer)), []
        ):
            if st.source not in group:
                group[st.source] = st
                foreign.setdefault(key, {})[st.source] = cur
    return foreign


def _compare(
    key: str,
    group: dict[str, InvoiceState],
    sources: list[str],
    foreign: dict[str, str] | None = None,
) -> list[Difference]:
    """The differences of one matched invoice; plain tuples first, since nearly every
    invoice agrees and models are built only for the few that do not. Rows in another
    currency (`foreign`, source -> currency) make the amounts differ whatever they read,
    and the currency is said beside the number."""
    found = []
    if len(group) < len(sources):
        found.append("missing")
    present = list(group.values())
    if len({st.status for st in present}) > 1:
        found.append("status_differs")
    live = [st for st in present if st.status != "void"]
    totals_differ = len({st.total_minor for st in live}) > 1
    if (
        totals_differ
        or foreign
        or ("status_differs" not in found and len({s.open_minor for s in live}) > 1)
    ):
        found.append("amount_differs")
    if not found:
        return []
    if foreign:
        key += " (" + ", ".join(f"{s} in {c}" for s, c in sorted(foreign.items())) + ")"
    sides = {
        s: None
        if (st := group.get(s)) is None
        else Side(
            id=st.external_id,
            total_minor=st.total_minor,
            open_minor=st.open_minor,
            status=st.status,
            currency=(foreign or {}).get(s),
        )
        for s in sources
    }
    return [Difference(kind=kind, number=key, sides=sides) for kind in found]


def _side(st: InvoiceState) -> Side:
    return Side(
        id=st.external_id, total_minor=st.total_minor, open_minor=st.open_minor, status=st.status
    )


def _bank_not_in_books(
    conn: Any, cut: Any, currency: str, sources: list[str], books: str, tz: Any
) -> list[Difference]:
    """The applied bank receipts whose payment the books' row of the invoice lacks: an equal
    amount recorded by the books themselves answers one receipt each."""
    receipts = bank_receipts(conn, cut=cut, currency=currency, sources=sources)
    if not receipts:
        return []
    numbers = [(r.invoice.number or "").strip() for r in receipts]
    rows = books_rows(
        conn,
        cut=cut,
        currency=currency,
        source=books,
        numbers=[n for n in numbers if n],
        totals=[r.invoice.total_minor for r in receipts],
    )
    found = []
    for r, number in zip(receipts, numbers, strict=True):
        inv = r.invoice
        twin = next(
            (
                (st, paid)
                for st, paid in rows
                if (st.external_id == inv.external_id and inv.source == books)
                or (inv.source != books and number and (st.number or "").strip() == number)
            ),
            None,
        )
        if twin is None and inv.source != books:
            key = _fallback_key(inv, tz)
            twin = next(((st, p) for st, p in rows if _fallback_key(st, tz) == key), None)
        if twin is not None and r.amount_minor in twin[1]:
            twin[1].remove(r.amount_minor)  # this books payment answers this receipt only
            continue
        sides: dict[str, Side | None] = dict.fromkeys(sources)
        sides[inv.source] = _side(inv)
        if twin is not None:
            sides[books] = _side(twin[0])
        label = (
            number or f"{inv.customer} {inv.issued_at.astimezone(tz).date()} ({inv.external_id})"
        )
        found.append(Difference(kind="bank_not_in_books", number=label, sides=sides))
    return found
