"""The forecast's spreading, added up per (history, due date, currency), gives for every week
and horizon exactly what spreading each invoice on its own over the outcomes still possible
for it gives, in whole fractions: invoices sharing a customer, a due date or a history, paid
outcomes on the very day an invoice is late now, uncollected outcomes, several currencies."""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from tools.forecast_spread import Outcomes, Spreads

DAY = date(2026, 6, 30)
RATES = {"USD": Fraction(1), "EUR": Fraction(108, 100), "JPY": Fraction(67, 10000)}
WINDOWS = [(7 * k + 1, 7 * k + 7) for k in range(13)] + [(1, 30), (1, 60), (1, 90), (1, 365)]

outcomes = st.dictionaries(
    st.one_of(st.none(), st.integers(-10, 200)), st.integers(1, 5), min_size=1, max_size=8
)
invoices = st.lists(
    st.tuples(
        st.integers(0, 4),  # which history
        st.integers(-150, 60),  # due, days after DAY
        st.sampled_from(sorted(RATES)),
        st.integers(1, 10**9),  # open amount in minor units
    ),
    max_size=30,
)


def by_hand(histories: list[Outcomes], rows: list[tuple[int, int, str, int]]) -> list[Fraction]:
    """Each invoice alone: its amount times n / T on due date + d, for the outcomes d later
    than it is late now (and the uncollected ones in T), summed per window."""
    sums = [Fraction(0)] * len(WINDOWS)
    for h, due_in, cur, amount in rows:
        late_now = -due_in
        possible = {d: n for d, n in histories[h].items() if d is None or d > late_now}
        total = sum(possible.values())
        for d, n in possible.items():
            if d is None:
                continue
            offset = d - late_now  # days after DAY it is expected
            for w, (lo, hi) in enumerate(WINDOWS):
                if lo <= offset <= hi:
                    sums[w] += Fraction(amount * n, total) * RATES[cur]
    return sums


@settings(max_examples=150, deadline=None)
@given(histories=st.lists(outcomes, min_size=5, max_size=5), rows=invoices)
def test_spreading_added_up_equals_each_invoice_spread_alone(
    histories: list[Outcomes], rows: list[tuple[int, int, str, int]]
) -> None:
    spreads = Spreads(DAY)
    for h, due_in, cur, amount in rows:
        spreads.add(histories[h], DAY + timedelta(days=due_in), cur, amount)

    assert spreads.windows(WINDOWS, RATES.__getitem__) == by_hand(histories, rows)
