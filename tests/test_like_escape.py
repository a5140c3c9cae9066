"""`%` and `_` in a claim prefix are literal, never wildcards."""

from __future__ import annotations

from datetime import UTC, datetime

from db.jobs import claimed_periods, insert_claim
from tools.deps import ToolDeps

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_a_prefix_is_literal(deps: ToolDeps) -> None:
    for period in ("customer:1", "customerX2", "customer_3", "50%:4", "500:5"):
        assert insert_claim(deps.engine, "at-risk-alert", period, NOW, None)
    with deps.engine.connect() as conn:
        assert set(claimed_periods(conn, "at-risk-alert", "customer:")) == {"customer:1"}
        assert set(claimed_periods(conn, "at-risk-alert", "customer_")) == {"customer_3"}
        assert set(claimed_periods(conn, "at-risk-alert", "50%")) == {"50%:4"}
        assert claimed_periods(conn, "at-risk-alert", "%") == {}
        assert claimed_periods(conn, "at-risk-alert", "_") == {}
