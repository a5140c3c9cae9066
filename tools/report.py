"""The AR report as the tools hand it out: metrics plus the JSON shape `arbot report` prints."""

from __future__ import annotations

from typing import Any

from tools.buckets import BUCKETS
from tools.deps import ToolDeps
from tools.format import ratio_number
from tools.metrics import ArMetrics, MetricsInput, ar_metrics
from tools.money import format_major


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


def report_json(m: ArMetrics) -> dict[str, Any]:
    def money(minor: int) -> str:
        return format_major(minor, m.currency)

    return {
        "as_of": m.as_of.isoformat(),
        "period_days": m.period_days,
        "currency": m.currency,
        "ar_total": money(m.ar_total_minor),
        "aging": {b: money(m.aging_minor[b]) for b in BUCKETS},
        "aging_pct": {b: ratio_number(m.aging_pct[b]) for b in BUCKETS},
        "credit_sales": money(m.credit_sales_minor),
        "dso": ratio_number(m.dso),
        "best_possible_dso": ratio_number(m.best_possible_dso),
        "average_days_delinquent": ratio_number(m.average_days_delinquent),
        "ar_turnover": ratio_number(m.ar_turnover),
        "cei_pct": ratio_number(m.cei_pct),
        "bad_debt_pct": ratio_number(m.bad_debt_pct),
        "weighted_days_past_due": ratio_number(m.weighted_days_past_due),
        "dunning_recovery_rate_pct": ratio_number(m.dunning_recovery_rate_pct),
        "allowance": money(m.allowance_minor),
        "unapplied_cash": money(m.unapplied_cash_minor),
    }
