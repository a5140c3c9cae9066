"""The AR report as the tools hand it out: metrics plus the JSON shape `arbot report` prints."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tools.deps import ToolDeps
from tools.metrics import BUCKETS, ArMetrics, MetricsInput, ar_metrics
from tools.money import format_major, round_ratio


def ar_report(deps: ToolDeps, args: MetricsInput) -> ArMetrics:
    s = deps.settings
    with deps.sessions() as session:
        return ar_metrics(
            session,
            args,
            tz=s.tz,
            reporting_currency=s.reporting_currency,
            reserve_pct=s.reserve_rates_pct,
        )


def _num(value: Decimal | None) -> float | None:
    # JSON numbers: half-up to 2 decimals first, so 29.945 shows as 29.95, never 29.94.
    rounded = round_ratio(value)
    return None if rounded is None else float(rounded)


def report_json(m: ArMetrics) -> dict[str, Any]:
    def money(minor: int) -> str:
        return format_major(minor, m.currency)

    return {
        "as_of": m.as_of.isoformat(),
        "period_days": m.period_days,
        "currency": m.currency,
        "ar_total": money(m.ar_total_minor),
        "aging": {b: money(m.aging_minor[b]) for b in BUCKETS},
        "aging_pct": {b: _num(m.aging_pct[b]) for b in BUCKETS},
        "credit_sales": money(m.credit_sales_minor),
        "dso": _num(m.dso),
        "best_possible_dso": _num(m.best_possible_dso),
        "average_days_delinquent": _num(m.average_days_delinquent),
        "ar_turnover": _num(m.ar_turnover),
        "cei_pct": _num(m.cei_pct),
        "bad_debt_pct": _num(m.bad_debt_pct),
        "weighted_days_past_due": _num(m.weighted_days_past_due),
        "dunning_recovery_rate_pct": _num(m.dunning_recovery_rate_pct),
        "allowance": money(m.allowance_minor),
        "unapplied_cash": money(m.unapplied_cash_minor),
    }
