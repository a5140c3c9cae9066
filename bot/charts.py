"""Charts as PNG bytes (matplotlib's Agg backend: no display, safe in worker threads).

The Figure is built directly (not pyplot), so concurrent answers never share global state.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from pydantic import BaseModel

from tools.buckets import BUCKETS
from tools.forecast import CashForecast
from tools.format import format_pct
from tools.metrics import ArMetrics
from tools.money import to_major

COLORS = ("#2e7d32", "#9e9d24", "#f9a825", "#ef6c00", "#c62828")
HEADROOM = 1.15


@dataclass(frozen=True)
class Chart:
    png: bytes
    filename: str
    title: str


def chart_of(result: BaseModel) -> Chart | None:
    """The picture that goes with an answer's result, if it has one."""
    if isinstance(result, ArMetrics):
        title = f"AR aging as of {result.as_of}"
        return Chart(aging_png(result), f"aging-{result.as_of}.png", title)
    if isinstance(result, CashForecast):
        title = f"Cash forecast from {result.as_of}"
        return Chart(forecast_png(result), f"cash-forecast-{result.as_of}.png", title)
    return None


def forecast_png(f: CashForecast) -> bytes:
    """Expected cash per week, the next 13 weeks."""
    values = [float(to_major(w.expected_minor, f.currency)) for w in f.weeks]
    labels = [f"{w.week_start:%b %d}" for w in f.weeks]
    fig = Figure(figsize=(7.2, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.bar(labels, values, color=COLORS[0])
    ax.set_title(f"Expected cash per week from {f.as_of} ({f.currency})")
    ax.set_xlabel("week starting")
    ax.set_ylabel(f.currency)
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def aging_png(m: ArMetrics) -> bytes:
    """The aging bar chart; the same numbers give the same picture, so it is drawn once."""
    return _aging_png(
        m.as_of.isoformat(),
        m.currency,
        tuple(m.aging_minor[b] for b in BUCKETS),
        tuple(m.aging_pct[b] for b in BUCKETS),
    )


@lru_cache(maxsize=64)
def _aging_png(
    as_of: str, currency: str, amounts: tuple[int, ...], pcts: tuple[Decimal | None, ...]
) -> bytes:
    return png(aging_figure(as_of, currency, amounts, pcts))


def aging_figure(
    as_of: str, currency: str, amounts: tuple[int, ...], pcts: tuple[Decimal | None, ...]
) -> Figure:
    """The bars with each bucket's share above it, inside the plot (headroom above the
    tallest bar, so its label never touches the title)."""
    values = [float(to_major(a, currency)) for a in amounts]
    fig = Figure(figsize=(6.4, 3.6), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    bars = ax.bar(BUCKETS, values, color=COLORS)
    for bar, pct in zip(bars, pcts, strict=True):
        ax.annotate(
            format_pct(pct),
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            xytext=(0, 2),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=9,
        )
    ax.set_ylim(0, max([*values, 1.0]) * HEADROOM)
    ax.set_title(f"AR aging as of {as_of} ({currency})")
    ax.set_xlabel("days past due")
    ax.set_ylabel(currency)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
