"""The digest's charts: nothing drawn over the data a reader looks at."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from bot.charts import aging_figure
from bot.trend_chart import dso_trend_figure
from tools.digest import TrendPoint


def _boxes(fig: Figure) -> tuple[Bbox, Bbox, list[Bbox]]:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax = fig.axes[0]
    return (
        fig.bbox,
        ax.get_window_extent(renderer),
        [t.get_window_extent(renderer) for t in ax.texts],
    )


def test_the_trend_legend_is_beside_the_plot_not_over_its_points() -> None:
    # the first weeks are the highest: a legend in the upper left would hide them
    points = [
        TrendPoint(
            as_of=date(2026, 9, 6) + timedelta(weeks=k),
            dso=Decimal(80 - k),
            best_possible_dso=Decimal(50),
            average_days_delinquent=Decimal(30 - k),
        )
        for k in range(13)
    ]
    fig = dso_trend_figure(points, Decimal(45))
    whole, plot, _ = _boxes(fig)
    legends = fig.legends
    assert len(legends) == 1 and not fig.axes[0].get_legend()
    legend = legends[0].get_window_extent(fig.canvas.get_renderer())  # type: ignore[attr-defined]
    assert not legend.overlaps(plot), (legend, plot)
    assert whole.contains(legend.x0, legend.y0) and whole.contains(legend.x1, legend.y1)
    labels = [t.get_text() for t in legends[0].get_texts()]
    assert sorted(labels) == sorted(
        ["DSO", "best possible DSO", "avg days delinquent", "target < 45 days"]
    )


def test_aging_shares_sit_inside_the_plot_above_their_bars() -> None:
    fig = aging_figure(
        "2026-11-29",
        "USD",
        (159_283_288, 28_933_424, 17_362_592, 2_654_933, 4_913_265),
        (Decimal("74.73"), Decimal("13.57"), Decimal("8.15"), Decimal("1.25"), Decimal("2.31")),
    )
    _, plot, labels = _boxes(fig)
    assert [t.get_text() for t in fig.axes[0].texts] == [
        "74.73%", "13.57%", "8.15%", "1.25%", "2.31%"
    ]  # fmt: skip
    for box in labels:  # the tallest bar's label too: it does not run into the title
        assert plot.contains(box.x0, box.y0) and plot.contains(box.x1, box.y1), (box, plot)
