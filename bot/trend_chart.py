"""The 13-week DSO trend chart for the digest, as PNG bytes (Agg backend, no pyplot state).

DSO, best possible DSO and the gap between them (average days delinquent) per week, with the
DSO target as a dashed line, so "are we collecting faster?" is one glance.
"""

from __future__ import annotations

from decimal import Decimal

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from bot.charts import png
from tools.digest import TrendPoint


def _f(value: Decimal | None) -> float:
    return float("nan") if value is None else float(value)


def dso_trend_png(points: list[TrendPoint], target_dso: Decimal) -> bytes:
    return png(dso_trend_figure(points, target_dso))


def dso_trend_figure(points: list[TrendPoint], target_dso: Decimal) -> Figure:
    """The legend sits right of the plot, never over the first weeks' points."""
    fig = Figure(figsize=(8.4, 3.6), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    x = list(range(len(points)))
    ax.plot(x, [_f(p.dso) for p in points], marker="o", label="DSO", color="#1565c0")
    ax.plot(
        x,
        [_f(p.best_possible_dso) for p in points],
        marker=".",
        label="best possible DSO",
        color="#2e7d32",
    )
    ax.bar(
        x,
        [_f(p.average_days_delinquent) for p in points],
        alpha=0.25,
        label="avg days delinquent",
        color="#c62828",
    )
    ax.axhline(
        float(target_dso), linestyle="--", color="#616161", label=f"target < {target_dso} days"
    )
    ax.set_xticks(x, [p.as_of.strftime("%m-%d") for p in points])
    ax.set_title(f"DSO, last {len(points)} weeks")
    ax.set_ylabel("days")
    ax.tick_params(axis="x", labelrotation=45, labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.legend(loc="outside right upper", fontsize=8, frameon=False)
    return fig
