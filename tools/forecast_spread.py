"""The forecast's spreading of open invoices over how late their peers paid, added up exactly.

An invoice's open amount A, at a history whose outcomes still possible for it count T
invoices, n of them paid d days late, expects A * n / T on its due date + d. Added up per
(currency, T) as integer numerators A * n per day, the shares stay exact until the weekly and
horizon totals are rounded, once each: the same sums as spreading invoice by invoice, without
a rounding per invoice, and with one pass per (history, due date, currency) however many
invoices share it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

Outcomes = dict[int | None, int]  # days paid late (None: not collected) -> invoices
Window = tuple[int, int]  # first and last day after the forecast's day, both included


@dataclass(frozen=True)
class _Ladder:
    """One history's outcomes, collected ones ordered by days late."""

    days: list[int]
    counts: list[int]
    after: list[int]  # after[i]: invoices paid later than days[i - 1]; after[len]: 0
    uncollected: int

    @classmethod
    def of(cls, outcomes: Outcomes) -> _Ladder:
        paid = sorted((d, n) for d, n in outcomes.items() if d is not None and n)
        after = [0] * (len(paid) + 1)
        for i in range(len(paid) - 1, -1, -1):
            after[i] = after[i + 1] + paid[i][1]
        return cls([d for d, _ in paid], [n for _, n in paid], after, outcomes.get(None) or 0)


class Spreads:
    """Open amounts waiting to be spread, added up per (history, due date, currency)."""

    def __init__(self, day: date) -> None:
        self.day = day
        self.amounts: dict[tuple[int, date, str], int] = {}
        self.histories: dict[int, Outcomes] = {}  # by id: the same history object is shared

    def add(self, outcomes: Outcomes, due: date, currency: str, amount: int) -> None:
        key = (id(outcomes), due, currency)
        self.histories.setdefault(key[0], outcomes)
        self.amounts[key] = self.amounts.get(key, 0) + amount

    def currencies(self) -> set[str]:
        return {cur for _, _, cur in self.amounts}

    def numerators(self, last: int) -> dict[tuple[str, int], dict[int, int]]:
        """Per (currency, T): the numerators A * n per day after the forecast's day, up to
        `last` days after it (nothing later is reported). Only the outcomes this late an
        invoice can still have count: paid later than it is late now, or not collected."""
        ladders = {sid: _Ladder.of(o) for sid, o in self.histories.items()}
        today = self.day.toordinal()
        out: dict[tuple[str, int], dict[int, int]] = {}
        for (sid, due, cur), amount in self.amounts.items():
            lad = ladders[sid]
            late_now = today - due.toordinal()
            lo = bisect_right(lad.days, late_now)
            total = lad.uncollected + lad.after[lo]
            hi = bisect_right(lad.days, late_now + last)
            if not total or hi <= lo:
                continue
            per_day = out.get(key := (cur, total))
            if per_day is None:
                per_day = out[key] = {}
            days, counts = lad.days, lad.counts
            for i in range(lo, hi):
                offset = days[i] - late_now
                per_day[offset] = per_day.get(offset, 0) + amount * counts[i]
        return out

    def windows(self, windows: Sequence[Window], rate: Callable[[str], Fraction]) -> list[Fraction]:
        """The expected amount in each window, converted at `rate` per currency, exact."""
        last = max((hi for _, hi in windows), default=0)
        sums = [Fraction(0)] * len(windows)
        for (cur, total), per_day in self.numerators(last).items():
            running = [0] * (last + 1)  # running[k]: numerators of days 1..k
            for offset, numerator in per_day.items():
                running[offset] += numerator
            for k in range(1, last + 1):
                running[k] += running[k - 1]
            factor = rate(cur) / total
            for w, (lo, hi) in enumerate(windows):
                if part := running[hi] - running[lo - 1]:
                    sums[w] += part * factor
        return sums
