"""What the Monday digest adds about where AR is going and why it moved: the cash forecast,
DSO and share current per segment against their targets, and why DSO moved since last week.
Each part is the answer of its own tool (tools.forecast, tools.cuts, tools.dso_change), so
the digest and the questions in Slack say the same numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import partial

from pydantic import BaseModel

from tools.cuts import CutInput, CutReport, cut_report
from tools.deps import ToolDeps
from tools.dso_change import DsoChange, DsoChangeInput, dso_change
from tools.forecast import CashForecast, ForecastInput, cash_forecast
from tools.open_book import OpenBook


class LookAhead(BaseModel):
    forecast: CashForecast
    segments: CutReport
    dso_change: DsoChange


def look_ahead_parts(
    deps: ToolDeps, as_of: date, book: OpenBook | None = None
) -> dict[str, Callable[[], BaseModel]]:
    """The three answers, not yet computed, as LookAhead's fields: the digest runs them in its
    thread pool beside its other reads, sharing its open invoices (`book`)."""
    period = deps.settings.period_days
    since = as_of - timedelta(days=7)
    return {
        "forecast": partial(cash_forecast, deps, ForecastInput(as_of=as_of), book=book),
        "segments": partial(
            cut_report, deps, CutInput(by="segment", as_of=as_of, period_days=period), book=book
        ),
        "dso_change": partial(
            dso_change,
            deps,
            DsoChangeInput(as_of=as_of, since=since, period_days=period, limit=3),
            book=book,
        ),
    }
