"""The aging buckets: their day limits and labels, in one place.

Every "N+ days" figure (an answer, the digest, an alert, a CSV) counts invoices *more than*
N days past due, so "90+" anywhere equals the report's 90+ bucket on the same ledger and date.
"""

from __future__ import annotations

from typing import NamedTuple


class Bucket(NamedTuple):
    label: str
    fewest_days: int | None  # days past due, inclusive; None: no lower limit
    most_days: int | None  # inclusive; None: no upper limit


AGING = (
    Bucket("current", None, 0),
    Bucket("1-30", 1, 30),
    Bucket("31-60", 31, 60),
    Bucket("61-90", 61, 90),
    Bucket("90+", 91, None),
)
BUCKETS = tuple(b.label for b in AGING)


def bucket_of(days_past_due: int) -> str:
    for bucket in AGING:
        if bucket.most_days is None or days_past_due <= bucket.most_days:
            return bucket.label
    raise AssertionError("the last bucket has no upper limit")


def over_label(more_than_days: int | None) -> str:
    """What "more than N days past due" is called: "60+ days past due", "past due", "open"."""
    if more_than_days is None:
        return "open"
    if more_than_days <= 0:
        return "past due"
    return f"{more_than_days}+ days past due"
