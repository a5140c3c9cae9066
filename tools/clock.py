"""Dates as people mean them: an as-of date is a whole day in the company's time zone."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def day_cut(day: date, tz: ZoneInfo) -> datetime:
    """The first instant after `day` ends; "on or before day" is `< day_cut(day)`."""
    return datetime.combine(day + timedelta(days=1), time(), tz)


def today(tz: ZoneInfo, now: datetime | None = None) -> date:
    return (now or datetime.now(tz)).astimezone(tz).date()
