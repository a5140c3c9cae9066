"""Dates the way finance people say them: "June 30", "6/30", "end of last quarter", "Q2".

`find_as_of(text, today)` returns the as-of date a question asks for (or None for "now") and
the question with that phrase removed, so the rest can be matched without the date in it.
A day without a year is the most recent such day not after today. A phrase shaped like a
date that names no day ("2/30", "13/01/2024", "Feb 29" in a year without one) is an error,
never "now": answering as of today would give a figure for a question nobody asked.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from tools.clock import AsOfError, check_as_of

MONTHS = {
    name: i
    for i in range(1, 13)
    for name in (calendar.month_name[i].lower(), calendar.month_abbr[i].lower())
}
MONTHS["sept"] = 9
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_LEAD = r"(?:(?:as of|as at|at the end of|at end of|on|at|for|in|by|from)\s+)?(?:the\s+)?"

_PATTERNS: list[tuple[str, str]] = [
    # A date is the whole run of numbers: "1/2/3/4" is not March 4, "12/31/99999" not Dec 31.
    ("iso", r"(?<![-\d])(?P<year>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![-/.]?\d)"),
    ("numeric", r"(?<![/\d])(?P<m>\d{1,2})/(?P<d>\d{1,2})(?:/(?P<y>\d{2,4}))?(?![/.]?\d)"),
    ("month_day", _MONTH + r"\s+" + _DAY + r"(?:,?\s+" + _YEAR + r")?"),
    ("day_month", _DAY + r"\s+(?:of\s+)?" + _MONTH + r"(?:,?\s+" + _YEAR + r")?"),
    ("quarter", r"(?:end of\s+)?q(?P<q>\d)(?:\s+(?P<qy>\d{4}))?"),
    ("end_of_month", r"end of\s+" + _MONTH + r"(?:\s+" + _YEAR + r")?"),
    (
        "relative",
        r"(?:end of\s+|the end of\s+)?(?P<rel>last|previous|prior)\s+"
        r"(?P<unit>month|quarter|year)(?:\s+end)?",
    ),
    ("month_end", r"(?P<unit2>month|quarter|year)[- ]end"),
    ("yesterday", r"yesterday"),
    ("now", r"right now|today|currently|as of now|at the moment|now"),
]
_LEAD_RE = re.compile(_LEAD)
# Left in the question once the date phrase is out, these are dates nobody could read (three
# runs of numbers, a day written as 8 digits, a quarter past q9); answering anyway would give
# a figure for some other day. Two runs ("60/90", "61-90") and long amounts stay numbers.
_UNREAD = re.compile(
    r"(?<![\w/.-])\d+(?:[/.-]\d+){2,}(?![\w/-]|\.\d)"
    r"|\b(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\b"
    r"|\bq\d+\b"
)
_COMPILED = [(kind, re.compile(r"\b" + _LEAD + pattern + r"\b")) for kind, pattern in _PATTERNS]


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _recent(today: date, month: int, day: int) -> date:
    """The most recent month/day on or before today."""
    candidate = date(today.year, month, day)
    return candidate if candidate <= today else date(today.year - 1, month, day)


def _quarter_end(year: int, quarter: int) -> date:
    return _month_end(year, quarter * 3)


def _resolve(kind: str, m: re.Match[str], today: date) -> date | None:
    g = m.groupdict()
    if kind == "iso":
        return date(int(g["year"]), int(g["m"]), int(g["d"]))
    if kind == "numeric":
        month, day = int(g["m"]), int(g["d"])
        if g["y"]:
            year = int(g["y"])
            return date(year + 2000 if year < 100 else year, month, day)
        return _recent(today, month, day)
    if kind in ("month_day", "day_month"):
        month, day = MONTHS[g["month"]], int(g["day"])
        return date(int(g["year"]), month, day) if g.get("year") else _recent(today, month, day)
    if kind == "end_of_month":
        month = MONTHS[g["month"]]
        if g.get("year"):
            return _month_end(int(g["year"]), month)
        end = _month_end(today.year, month)
        return end if end <= today else _month_end(today.year - 1, month)
    if kind == "quarter":
        quarter = int(g["q"])
        if not 1 <= quarter <= 4:
            raise ValueError(f"no quarter {quarter}")
        if g.get("qy"):
            return _quarter_end(int(g["qy"]), quarter)
        end = _quarter_end(today.year, quarter)
        return end if end <= today else _quarter_end(today.year - 1, quarter)
    if kind in ("relative", "month_end"):
        unit = g.get("unit") or g.get("unit2")
        if unit == "month":
            return today.replace(day=1) - timedelta(days=1)
        if unit == "quarter":
            first_month = (today.month - 1) // 3 * 3 + 1
            return date(today.year, first_month, 1) - timedelta(days=1)
        return date(today.year - 1, 12, 31)
    if kind == "yesterday":
        return today - timedelta(days=1)
    return None  # "now"


def _date_shaped(m: re.Match[str]) -> bool:
    """Whether a failed match is a date that does not exist rather than other numbers: a
    number beside a month's name is a day ("32 march"); "a/b" is a date only when both
    could be a day or a month (0-31), so "60/90 days" is not one."""
    g = m.groupdict()
    numbers = [g[k] for k in ("m", "d") if g.get(k)]
    return all(int(n) <= 31 for n in numbers)


class NoSuchDate(AsOfError):
    """A date phrase that names no day in the calendar."""


def find_as_of(text: str, today: date) -> tuple[date | None, str]:
    """(as-of date or None for now, text without the date phrase). Lower-case input.

    Raises NoSuchDate for a date that does not exist and AsOfError for one outside the dates
    arbot reports on (tools.clock.check_as_of).
    """
    for kind, pattern in _COMPILED:
        m = pattern.search(text)
        if m is None:
            continue
        try:
            day = _resolve(kind, m, today)
        except ValueError:
            if not _date_shaped(m):  # "60/90 days": numbers, not a date
                continue
            phrase = m.group(0)[_LEAD_RE.match(m.group(0)).end() :]  # type: ignore[union-attr]
            what = "quarter" if kind == "quarter" else "date"
            raise NoSuchDate(f"there is no such {what}: {phrase}") from None
        if day is not None:
            check_as_of(day)
        rest = (text[: m.start()] + " " + text[m.end() :]).strip()
        return day, _readable(re.sub(r"\s+", " ", rest))
    return None, _readable(text)


def _readable(rest: str) -> str:
    """`rest`, or NoSuchDate when a date-like token is left in it."""
    unread = _UNREAD.search(rest)
    if unread is not None:
        raise NoSuchDate(
            f"I could not read the date {unread.group(0)}: write it as 2024-06-30 or June 30 2024"
        )
    return rest
