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
from tools.format import LABELS, format_figure, format_pct
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


def _ratio(m: ArMetrics, field: str, note: str = "") -> Line:
    return _fact(LABELS[field], format_figure(field, getattr(m, field)) + note)


def metric_facts(m: ArMetrics, topic: str) -> list[Line]:
    """The label/value lines of one topic; "all" lists every metric."""
    cur = m.currency

    def money(field: str, minor: int, note: str = "") -> Line:
        return _fact(LABELS[field], format_money(minor, cur) + note)

    window = f" ({m.period_days}-day window)"
    ar = money("ar_total", m.ar_total_minor)
    unapplied = money("unapplied_cash", m.unapplied_cash_minor, " (not netted)")
    allowance = money("allowance", m.allowance_minor)
    best, add = _ratio(m, "best_possible_dso"), _ratio(m, "average_days_delinquent")
    aging = [
        _fact(b, f"{format_money(m.aging_minor[b], cur)} ({format_pct(m.aging_pct[b])})")
        for b in BUCKETS
    ]
    by_topic: dict[str, list[Line]] = {
        "ar": [ar, money("past_due", m.past_due_minor), unapplied],
        "aging": [ar, *aging],
        "dso": [_ratio(m, "dso", window), best, add],
        "best_dso": [best, _ratio(m, "dso", window)],
        "add": [add, _ratio(m, "dso", window), best],
        "cei": [_ratio(m, "cei_pct", window)],
        "turnover": [_ratio(m, "ar_turnover", window)],
        "bad_debt": [
            _ratio(m, "bad_debt_pct", f" of credit sales{window}"),
            money("written_off", m.written_off_minor),
        ],
        "allowance": [allowance],
    }
    if topic in by_topic:
        return by_topic[topic]
    return [
        ar,
        *aging,
        money("credit_sales", m.credit_sales_minor),
        _ratio(m, "dso", window),
        best,
        add,
        *(
            _ratio(m, field)
            for field in (
                "cei_pct",
                "ar_turnover",
                "bad_debt_pct",
                "weighted_days_past_due",
                "dunning_recovery_rate_pct",
            )
        ),
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
            *([f" · {m.source}"] if m.source else []),
        ),
        rows=RowsRequest(kind="open_invoices", as_of=m.as_of),
        chart=topic == "aging",
    )
