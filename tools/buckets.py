"""The aging buckets: their day limits and labels, in one place.

Every "N+ days" figure (an answer, the digest, an alert, a CSV) counts invoices *more than*
N days past due, so "90+" anywhere equals the report's 90+ bucket on the same ledger and date.
"""

from __future__ import annotations

from datetime import date, timedelta
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


DueRange = tuple[str, date | None, date | None]
"""(bucket label, due on or after, due on or before): a bucket as due dates at one as-of date."""


def days_past_due(as_of: date, due_on: date) -> int:
    """D - due date; 0 or less is current."""
    return (as_of - due_on).days


def due_before(as_of: date, more_than_days: int) -> date:
    """Invoices due before this day are more than `more_than_days` days past due at as_of."""
    return as_of - timedelta(days=more_than_days)


def due_ranges(as_of: date) -> list[DueRange]:
    """The aging buckets as due-date ranges, for queries that group by bucket in SQL."""
    return [
        (
            b.label,
            None if b.most_days is None else as_of - timedelta(days=b.most_days),
            None if b.fewest_days is None else as_of - timedelta(days=b.fewest_days),
        )
        for b in AGING
    ]


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


def buckets_over(days: int) -> tuple[str, ...]:
    """The buckets that hold what is more than `days` past due; `days` must end a bucket, so
    "more than 60 days" reads the same as the 61-90 and 90+ buckets of the report."""
    if days not in {b.most_days for b in AGING}:
        raise ValueError(f"{days} days is not the end of an aging bucket")
    return tuple(b.label for b in AGING if b.fewest_days is not None and b.fewest_days > days)
