"""How a figure reads, wherever it is shown: Slack answers, the digest, alerts, cards, CSVs,
`arbot report`.

A controller compares the same figure across messages, so every ratio (DSO, CEI, a
percentage, a day count) is rounded half-up to the same number of places by the one function
here, and money always goes through `tools.money.format_money`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal

from tools.money import format_major, format_money

RATIO_PLACES = 2
"""Decimals of every ratio shown to people or written to JSON and CSV."""

LABELS: dict[str, str] = {
    "ar_total": "AR total",
    "past_due": "Past due",
    "credit_sales": "Credit sales in window",
    "unapplied_cash": "Unapplied cash",
    "allowance": "Allowance for doubtful accounts",
    "written_off": "Written off",
    "current_pct": "Current",
    "dso": "DSO",
    "best_possible_dso": "Best possible DSO",
    "average_days_delinquent": "Average days delinquent",
    "weighted_days_past_due": "Weighted days past due",
    "cei_pct": "CEI",
    "ar_turnover": "AR turnover (annualised)",
    "bad_debt_pct": "Bad debt",
    "dunning_recovery_rate_pct": "Dunning recovery rate",
}
"""What each figure of the report is called, by its field name, on every surface."""

UNITS: dict[str, str] = {
    "current_pct": "%",
    "dso": " days",
    "best_possible_dso": " days",
    "average_days_delinquent": " days",
    "weighted_days_past_due": " days",
    "cei_pct": "%",
    "ar_turnover": "x",
    "bad_debt_pct": "%",
    "dunning_recovery_rate_pct": "%",
}
"""The unit each ratio is shown with."""

__all__ = [
    "LABELS",
    "RATIO_PLACES",
    "UNITS",
    "format_day_change",
    "format_days",
    "format_figure",
    "format_lateness",
    "format_major",
    "format_money",
    "format_pay_speed",
    "format_pct",
    "format_ratio",
    "plural",
    "ratio_number",
    "round_ratio",
]


def round_ratio(value: Decimal | float | None) -> Decimal | None:
    """The shown value of a ratio: half-up to RATIO_PLACES; None (n/a) stays None."""
    if value is None:
        return None
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    return exact.quantize(Decimal(1).scaleb(-RATIO_PLACES), rounding=ROUND_HALF_UP)


def format_ratio(value: Decimal | float | None, unit: str = "") -> str:
    """ "64.68 days", "92.10%", "4.05x"; "n/a" when the denominator was zero."""
    rounded = round_ratio(value)
    return "n/a" if rounded is None else f"{rounded}{unit}"


def format_days(value: Decimal | float | None) -> str:
    return format_ratio(value, " days")


def format_day_change(value: Decimal | float | None) -> str:
    """A move in days with its sign: "+4.20 days", "-0.50 days", "0.00 days"."""
    rounded = round_ratio(value)
    return "n/a" if rounded is None else f"{'+' if rounded > 0 else ''}{rounded} days"


def format_pct(value: Decimal | float | None) -> str:
    return format_ratio(value, "%")


def ratio_number(value: Decimal | float | None) -> float | None:
    """The JSON form of a ratio: the same rounded value, as a number."""
    rounded = round_ratio(value)
    return None if rounded is None else float(rounded)


def format_figure(name: str, value: Decimal | float | None) -> str:
    """A report ratio by its field name, with its unit: `format_figure("dso", x)`."""
    return format_ratio(value, UNITS[name])


def format_lateness(days_past_due: int) -> str:
    """ "12 days overdue", "due today", "not yet due": how far past due an invoice is."""
    if days_past_due > 0:
        return f"{plural(days_past_due, 'day')} overdue"
    return "due today" if days_past_due == 0 else "not yet due"


def converted_text(minor: int | None, currency: str, own: Mapping[str, int]) -> str:
    """An amount in the reporting currency with what it is in its own currencies beside it:
    "USD 1,250.00 (GBP 1,000.00)", "USD 51,000.00 (GBP 40,000.00 + USD 1,000.00)"; just
    "USD 217.12" when it is all USD; only the own amounts when there was no rate (None)."""
    parts = {c: a for c, a in sorted(own.items()) if a} or dict(own)
    each = " + ".join(format_money(a, c) for c, a in parts.items())
    if minor is None:
        return each
    shown = format_money(minor, currency)
    if set(parts) - {currency}:
        shown += f" ({each})"
    return shown


def plural(count: int, noun: str, many: str | None = None) -> str:
    """ "1 invoice", "4 invoices", "0 accounts"; `many` for irregular nouns."""
    return f"{count} {noun if count == 1 else many or noun + 's'}"


def format_pay_speed(days_late: Decimal | float | None) -> str:
    """An average payment delay against the due date, as English: "16.00 days late",
    "4.00 days early", "on time" (zero as shown); a negative delay is early, never "-4 late"."""
    shown = round_ratio(days_late)
    if shown is None:
        return "n/a"
    if shown == 0:
        return "on time"
    return f"{format_days(abs(shown))} {'late' if shown > 0 else 'early'}"
