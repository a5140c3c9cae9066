"""Dates as people mean them: an as-of date is a whole day in the company's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

# The ledger has nothing before this, and date arithmetic (a period before the as-of date, the
# day after it) must stay within what a date can hold: 9999-12-31 has no day after.
EARLIEST_AS_OF = date(1900, 1, 1)
YEARS_AHEAD = 100


class AsOfError(ValueError):
    """An as-of date no report can be made for, in words for the person who asked."""


def latest_as_of() -> date:
    """The last day arbot reports on. Counted from the UTC year so that a tool input, which
    knows no time zone, and a parsed question get the same bound."""
    return date(datetime.now(UTC).year + YEARS_AHEAD, 12, 31)


def _range_sentence(day: date) -> str:
    return f"I can report as of {EARLIEST_AS_OF} to {latest_as_of()}, not {day.isoformat()}"


def check_as_of(day: date) -> date:
    """`day`, or AsOfError when it lies outside the dates arbot reports on."""
    if not EARLIEST_AS_OF <= day <= latest_as_of():
        raise AsOfError(_range_sentence(day))
    return day


def _validate_as_of(day: date) -> date:
    # A custom error keeps the message the plain sentence (no "Value error, " prefix), so the
    # CLI, Slack and the model all read the same words.
    try:
        return check_as_of(day)
    except AsOfError as exc:
        raise PydanticCustomError("as_of_range", str(exc)) from None


AsOfDate = Annotated[date, AfterValidator(_validate_as_of)]
"""The type of every tool input's `as_of`: the range rule holds whichever surface asks."""


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
