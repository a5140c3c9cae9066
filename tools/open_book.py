"""The invoices open at the end of one day, read once and shared by the parts of the Monday
digest that each need them: the cash forecast (per invoice), the cut by segment and the DSO
movers (per customer), the top overdue list and the money at risk (per customer and aging
bucket).

Every figure taken from it is a sum of whole minor units of the very open amounts the
parts' own reads add up (`db.invoices.open_invoices`: the one open-amount formula of
`db.open_amounts`), grouped in Python instead of SQL, so each part gives the same numbers as
when it reads the ledger itself (tests/jobs/test_digest_shared_reads.py holds them to it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import date

from db.invoices import OpenInvoiceRow, open_invoices
from tools.buckets import BUCKETS, bucket_of, days_past_due
from tools.clock import day_cut
from tools.deps import ToolDeps

Buckets = dict[str, dict[str, int]]
"""Open minor units per aging bucket and currency, one account."""


class OpenBook:
    """The open invoices at the end of `day`, read on first use by whichever thread asks
    first; the others wait for that read instead of making their own."""

    def __init__(self, deps: ToolDeps, day: date) -> None:
        self.deps, self.day = deps, day
        self._rows: list[OpenInvoiceRow] | None = None
        self._lock = threading.Lock()

    def serves(self, day: date) -> bool:
        return day == self.day

    def rows(self) -> list[OpenInvoiceRow]:
        """Every invoice open at the end of the day, oldest due first, with nothing left to
        pay included (it still counts as an open invoice)."""
        with self._lock:
            if self._rows is None:
                with self.deps.sessions() as session:
                    cut = day_cut(self.day, self.deps.settings.tz)
                    self._rows = open_invoices(session, cut, keep_zero=True)
            return self._rows

    def by_account(self) -> dict[tuple[int, str], int]:
        """Open minor units per (customer, currency), for every customer with an open invoice."""
        out: dict[tuple[int, str], int] = {}
        for r in self.rows():
            key = (r.customer_id, r.currency)
            out[key] = out.get(key, 0) + r.open_minor
        return out

    def buckets(self, *, due_before: date | None = None) -> dict[int, Buckets]:
        """Per customer: the open minor units per aging bucket and currency that are not
        zero, of the invoices due before `due_before` (all at None)."""
        return _bucketed(
            (r for r in self.rows() if due_before is None or r.due_on < due_before), self.day
        )


def _bucketed(rows: Iterable[OpenInvoiceRow], day: date) -> dict[int, Buckets]:
    sums: dict[tuple[int, str, int], int] = {}
    places: dict[date, int] = {}
    for r in rows:
        place = places.get(r.due_on)
        if place is None:
            place = places[r.due_on] = BUCKETS.index(bucket_of(days_past_due(day, r.due_on)))
        key = (r.customer_id, r.currency, place)
        sums[key] = sums.get(key, 0) + r.open_minor
    out: dict[int, Buckets] = {}
    for (cid, cur, place), minor in sorted(sums.items()):  # per account, currency, bucket
        if minor:
            out.setdefault(cid, {}).setdefault(BUCKETS[place], {})[cur] = minor
    return out
