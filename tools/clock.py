"""Dates as people mean them: an as-of date is a whole day in the company's time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def day_cut(day: date, tz: ZoneInfo) -> datetime:
    """The first instant after `day` ends; "on or before day" is `< day_cut(day)`."""
    return datetime.combine(day + timedelta(days=1), time(), tz)


def today(tz: ZoneInfo, now: datetime | None = None) -> date:
    return (now or datetime.now(tz)).astimezone(tz).date()


EARLIEST_DAY = date(1970, 1, 1)
YEARS_AHEAD = 10


def day_out_of_range(name: str, day: date, today: date) -> str | None:
    """Why `day` cannot be a ledger date (year 1052 from a model that misread a date), or None.

    Every tool takes dates from 1970 to ten years ahead; rules with a narrower window (a
    promise within ARBOT_PROMISE_MAX_DAYS) check theirs on top.
    """
    latest = date(today.year + YEARS_AHEAD, 12, 31)
    if EARLIEST_DAY <= day <= latest:
        return None
    return (
        f"{name} {day.isoformat()} is outside the ledger's dates ({EARLIEST_DAY.isoformat()} to "
        f"{latest.isoformat()}); today is {today.isoformat()}"
    )
