"""An AR report answer: the figures the question's topic asks for (AR, aging, DSO, CEI ...).

Where DSO and the other metrics are drawn as an answer; `tools/metrics.py` computes them and
`tools/format.py` decides how a ratio reads.
"""

from __future__ import annotations

from bot.blocks.common import Rendered
from bot.blocks.ids import RowsRequest
from bot.intents import Intent
from bot.render.layout import Line, Strong, compose
from tools.buckets import BUCKETS
from tools.format import format_days, format_pct, format_ratio
from tools.metrics import ArMetrics
from tools.money import format_money

TITLES = {
    "ar": "Accounts receivable",
    "aging": "AR aging",
    "dso": "DSO",
    "best_dso": "Best possible DSO",
    "add": "Average days delinquent",
    "cei": "Collection effectiveness index",
    "turnover": "AR turnover",
    "bad_debt": "Bad debt",
    "allowance": "Allowance for doubtful accounts",
    "all": "AR report",
}


def _fact(label: str, value: str) -> Line:
    return (Strong(f"{label}:"), f" {value}")


def metric_facts(m: ArMetrics, topic: str) -> list[Line]:
    """The label/value lines of one topic; "all" lists every metric."""
    cur = m.currency
    window = f"{m.period_days}-day window"
    ar = _fact("AR", format_money(m.ar_total_minor, cur))
    unapplied = _fact("Unapplied cash (not netted)", format_money(m.unapplied_cash_minor, cur))
    allowance = _fact("Allowance for doubtful accounts", format_money(m.allowance_minor, cur))
    dso = _fact("DSO", f"{format_days(m.dso)} ({window})")
    best = _fact("Best possible DSO", format_days(m.best_possible_dso))
    add = _fact("Average days delinquent", format_days(m.average_days_delinquent))
    turnover = format_ratio(m.ar_turnover, "x")
    aging = [
        _fact(b, f"{format_money(m.aging_minor[b], cur)} ({format_pct(m.aging_pct[b])})")
        for b in BUCKETS
    ]
    by_topic: dict[str, list[Line]] = {
        "ar": [
            ar,
            _fact("Past due", format_money(m.ar_total_minor - m.aging_minor["current"], cur)),
            unapplied,
        ],
        "aging": [ar, *aging],
        "dso": [dso, best, add],
        "best_dso": [best, dso],
        "add": [add, dso, best],
        "cei": [_fact("CEI", f"{format_pct(m.cei_pct)} ({window})")],
        "turnover": [_fact("AR turnover (annualised)", f"{turnover} ({window})")],
        "bad_debt": [
            _fact("Bad debt", f"{format_pct(m.bad_debt_pct)} of credit sales ({window})"),
            _fact("Written off", format_money(m.written_off_minor, cur)),
        ],
        "allowance": [allowance],
    }
    if topic in by_topic:
        return by_topic[topic]
    return [
        ar,
        *aging,
        _fact("Credit sales in window", format_money(m.credit_sales_minor, cur)),
        dso,
        best,
        add,
        _fact("CEI", format_pct(m.cei_pct)),
        _fact("AR turnover (annualised)", turnover),
        _fact("Bad debt", format_pct(m.bad_debt_pct)),
        _fact("Weighted days past due", format_days(m.weighted_days_past_due)),
        _fact("Dunning recovery rate", format_pct(m.dunning_recovery_rate_pct)),
        allowance,
        unapplied,
    ]


def metrics_view(m: ArMetrics, intent: Intent | None) -> Rendered:
    topic = intent.topic if intent else "all"
    return compose(
        title=f"{TITLES.get(topic, 'AR report')} as of {m.as_of} ({m.currency})",
        lines=metric_facts(m, topic),
        note=(
            f"As of end of {m.as_of} · {m.period_days}-day window · credit sales "
            f"{format_money(m.credit_sales_minor, m.currency)} · unapplied cash not netted",
        ),
        rows=RowsRequest(kind="open_invoices", as_of=m.as_of),
        chart=topic == "aging",
    )
