"""The targets a controller holds AR to, and whether a report meets them.

One rule for every surface: `arbot report` marks each metric ok/off, and the Monday digest
shows the same checks with the change since last week. A target is met strictly (DSO under
45 days, CEI over 90%); a metric that is n/a neither meets nor misses it.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from tools.format import LABELS, UNITS, round_ratio
from tools.metrics import ArMetrics
from tools.settings import Settings

Direction = Literal["better", "worse", "unchanged", "n/a"]
Movement = Literal["up", "down", "unchanged", "n/a"]


class TargetCheck(BaseModel):
    """One metric against its target: the value, the target and whether it is met."""

    metric: str = Field(description="the report field, e.g. dso")
    name: str
    value: Decimal | None
    target: Decimal
    unit: str
    higher_is_better: bool
    met: bool | None = Field(description="None when the value is n/a")
    change: Decimal | None = Field(
        description="the shown value minus the earlier report's shown value"
    )
    moved: Movement = Field(description="which way the number went since the earlier report")
    direction: Direction = Field(description="whether that move is good news")


def _moved(change: Decimal | None) -> Movement:
    if change is None:
        return "n/a"
    return "up" if change > 0 else "down" if change < 0 else "unchanged"


def _direction(change: Decimal | None, higher_is_better: bool) -> Direction:
    """Good or bad news; "on target" is never said here, it means only that a target is met."""
    moved = _moved(change)
    if moved in ("n/a", "unchanged"):
        return moved
    return "better" if (moved == "up") == higher_is_better else "worse"


def _check(
    metric: str,
    value: Decimal | None,
    before: Decimal | None,
    target: Decimal,
    *,
    higher_is_better: bool,
) -> TargetCheck:
    shown = round_ratio(value)  # judged as shown: "45.00 days" never meets "under 45"
    met = None if shown is None else (shown > target if higher_is_better else shown < target)
    # Compared as shown, so a move that rounds away reads "unchanged" and the change shown
    # is the difference of the two figures a reader sees.
    shown_before = round_ratio(before)
    change = None if shown is None or shown_before is None else shown - shown_before
    return TargetCheck(
        metric=metric,
        name=LABELS[metric],
        value=value,
        target=target,
        unit=UNITS[metric],
        higher_is_better=higher_is_better,
        met=met,
        change=change,
        moved=_moved(change),
        direction=_direction(change, higher_is_better),
    )


def target_checks(s: Settings, m: ArMetrics, earlier: ArMetrics | None = None) -> list[TargetCheck]:
    """DSO, share current, CEI, bad debt and average days delinquent against their targets;
    with `earlier`, each also says how it moved since then."""
    metrics: list[tuple[str, Callable[[ArMetrics], Decimal | None], Decimal, bool]] = [
        ("dso", lambda r: r.dso, s.target_dso_days, False),
        ("current_pct", lambda r: r.aging_pct["current"], s.target_current_pct, True),
        ("cei_pct", lambda r: r.cei_pct, s.target_cei_pct, True),
        ("bad_debt_pct", lambda r: r.bad_debt_pct, s.target_bad_debt_pct, False),
        ("average_days_delinquent", lambda r: r.average_days_delinquent, s.target_add_days, False),
    ]
    return [
        _check(
            metric,
            value(m),
            None if earlier is None else value(earlier),
            target,
            higher_is_better=higher,
        )
        for metric, value, target, higher in metrics
    ]


def segment_checks(s: Settings, segment: str, m: ArMetrics) -> list[TargetCheck]:
    """A segment's DSO and share current against its own targets (the company's where the
    segment has none set)."""
    key = segment.lower()
    dso = s.target_dso_days_by_segment.get(key, s.target_dso_days)
    current = s.target_current_pct_by_segment.get(key, s.target_current_pct)
    return [
        _check("dso", m.dso, None, dso, higher_is_better=False),
        _check("current_pct", m.aging_pct["current"], None, current, higher_is_better=True),
    ]
