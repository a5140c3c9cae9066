"""A target is judged on the figure as people see it, the same in the report and the digest."""

from __future__ import annotations

from decimal import Decimal

from tools.metrics import ArMetrics
from tools.settings import Settings
from tools.targets import target_checks


def _report(dso: str, cei: str | None) -> ArMetrics:
    return ArMetrics.model_construct(
        dso=Decimal(dso),
        aging_pct={"current": Decimal("80.004")},
        cei_pct=None if cei is None else Decimal(cei),
        bad_debt_pct=Decimal("0.5"),
        average_days_delinquent=Decimal("9.999"),
    )


def test_targets_are_met_strictly_by_the_shown_value_and_na_is_neither() -> None:
    s = Settings(database_url="sqlite://")  # targets: DSO < 45, > 80% current, CEI > 90 ...
    now = {c.metric: c for c in target_checks(s, _report("44.996", None))}
    assert now["dso"].met is False  # shows as 45.00 days: not under 45
    assert now["current_pct"].met is False  # 80.00%: not over 80
    assert now["cei_pct"].met is None and now["cei_pct"].direction == "n/a"
    assert now["bad_debt_pct"].met is True
    assert now["average_days_delinquent"].met is False  # 10.00 days
    moved = target_checks(s, _report("40", "95"), _report("44.996", "91"))
    assert [(c.metric, c.moved, c.direction) for c in moved if c.change is not None] == [
        ("dso", "down", "better"),
        ("current_pct", "unchanged", "unchanged"),
        ("cei_pct", "up", "better"),
        ("bad_debt_pct", "unchanged", "unchanged"),
        ("average_days_delinquent", "unchanged", "unchanged"),
    ]
    # a move smaller than the shown precision is no move: 45.00 days both weeks
    tiny = target_checks(s, _report("44.996", "91"), _report("45.004", "91"))
    assert (tiny[0].moved, tiny[0].direction, tiny[0].change) == ("unchanged", "unchanged", 0)
    worse = target_checks(s, _report("50", "91"), _report("44.996", "91"))
    assert (worse[0].moved, worse[0].direction, worse[0].change) == ("up", "worse", Decimal(5))
