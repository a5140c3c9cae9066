"""Charts as PNG bytes (matplotlib's Agg backend: no display, safe in worker threads).

The Figure is built directly (not pyplot), so concurrent answers never share global state.
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from tools.metrics import BUCKETS, ArMetrics
from tools.money import to_major

COLORS = ("#2e7d32", "#9e9d24", "#f9a825", "#ef6c00", "#c62828")


def aging_png(m: ArMetrics) -> bytes:
    values = [float(to_major(m.aging_minor[b], m.currency)) for b in BUCKETS]
    fig = Figure(figsize=(6.4, 3.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    bars = ax.bar(BUCKETS, values, color=COLORS)
    for bar, b in zip(bars, BUCKETS, strict=True):
        pct = m.aging_pct[b]
        label = "n/a" if pct is None else f"{pct:.1f}%"
        ax.annotate(
            label,
            (bar.get_x() + bar.get_width() / 2, bar.get_height()),
            ha="center",
            va="bottom",
            fontsize=9,
        )
    ax.set_title(f"AR aging as of {m.as_of} ({m.currency})")
    ax.set_xlabel("days past due")
    ax.set_ylabel(m.currency)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"{v:,.0f}")
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
