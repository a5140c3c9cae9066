"""Dates as people mean them: an as-of date is a whole day in the company's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

# The dates any tool takes. The ledger has nothing before the first, and date arithmetic (a
# period before the as-of date, the day after it) must stay within what a date can hold:
# 9999-12-31 has no day after. Ten years ahead leaves room for any plan while a misread year
# (1052 for 2025, from a model) is refused rather than answered.
EARLIEST_AS_OF = date(1900, 1, 1)
YEARS_AHEAD = 10


class AsOfError(ValueError):
    """An as-of date no report can be made for, in words for the person who asked."""


def latest_as_of() -> date:
    """The last day arbot reports on. Counted from the UTC year so that a tool input, which
    knows no time zone, and a parsed question get the same bound."""
    return latest_day(datetime.now(UTC).date())


def latest_day(today: date) -> date:
    return date(today.year + YEARS_AHEAD, 12, 31)


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


def day_out_of_range(name: str, day: date, today: date) -> str | None:
    """Why `day` cannot be the `name` date of any tool, or None; rules with a narrower
    window (a promise within ARBOT_PROMISE_MAX_DAYS) check theirs on top."""
    latest = latest_day(today)
    if EARLIEST_AS_OF <= day <= latest:
        return None
    return f"{name}: I can take dates from {EARLIEST_AS_OF} to {latest}, not {day.isoformat()}"
