"""Charts as PNG bytes (matplotlib's Agg backend: no display, safe in worker threads).

The Figure is built directly (not pyplot), so concurrent answers never share global state.
"""

from __future__ import annotations

import io
from decimal import Decimal
from functools import lru_cache

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tools.buckets import BUCKETS
from tools.format import format_pct
from tools.metrics import ArMetrics
from tools.money import to_major

COLORS = ("#2e7d32", "#9e9d24", "#f9a825", "#ef6c00", "#c62828")
HEADROOM = 1.15


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
