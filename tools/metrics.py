"""AR metrics exactly as DESIGN section 4, for any as-of date.

One function, `ar_metrics`, serves the CLI report, the Slack fast path, the agent and the
digest, so a number is computed in exactly one place. Amounts stay integer minor units;
ratios are unrounded Decimals (rounded only when shown); a zero denominator gives None.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from db.ar_sums import credit_sales_in, dunning_counts, open_sums_at
from db.invoice_totals import written_off
from db.open_amounts import OpenGroup
from db.payments import unapplied_cash
from tools.answer_cache import cached
from tools.buckets import BUCKETS, days_past_due
from tools.clock import AsOfDate, day_cut, today
from tools.fx import Converter as Converter
from tools.fx import MetricsError as MetricsError
from tools.fx import OpenMoney as OpenMoney
from tools.fx import by_bucket as by_bucket
from tools.fx import converted_aging as converted_aging
from tools.fx import converted_balance as converted_balance
from tools.ledger_record import source_line
from tools.money import CurrencyCode, round_minor

DEFAULT_RESERVE_PCT = tuple(Decimal(x) for x in ("1", "5", "10", "25", "50"))
HUNDRED = Decimal(100)


class MetricsInput(BaseModel):
    as_of: AsOfDate | None = Field(None, description="end-of-day date to report on; today if empty")
    period_days: int = Field(90, ge=1, le=3650, description="look-back window P in days")
    currency: CurrencyCode | None = Field(
        None, description="report one currency alone (ISO code); all, converted, if empty"
    )


class ArMetrics(BaseModel):
    as_of: date
    period_days: int
    currency: str
    ar_total_minor: int
    aging_minor: dict[str, int]
    aging_pct: dict[str, Decimal | None]
    ar_start_minor: int = Field(description="AR at the start of the window, D - P")
    credit_sales_minor: int
    dso: Decimal | None
    best_possible_dso: Decimal | None
    average_days_delinquent: Decimal | None
    ar_turnover: Decimal | None
    cei_pct: Decimal | None
    bad_debt_pct: Decimal | None
    written_off_minor: int
    weighted_days_past_due: Decimal | None
    dunning_recovery_rate_pct: Decimal | None
    failed_attempt_invoices: int
    recovered_invoices: int
    allowance_minor: int
    unapplied_cash_minor: int
    source: str = Field("", description='which source the figures count, "Source: QuickBooks"')

    @property
    def past_due_minor(self) -> int:
        """AR outside the current bucket."""
        return self.ar_total_minor - self.aging_minor["current"]


def ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    return None if denominator == 0 else Decimal(numerator) / Decimal(denominator)


def weighted_days_past_due(
    weighted_sum: Decimal | int, past_due_sum: Decimal | int
) -> Decimal | None:
    """sum(open x days past due) / sum(open), both over past-due invoices; n/a without any."""
    return None if past_due_sum <= 0 else Decimal(weighted_sum) / Decimal(past_due_sum)


def _totals(groups: Iterable[OpenGroup]) -> dict[str, int]:
    out: dict[str, int] = {}
    for g in groups:
        out[g.currency] = out.get(g.currency, 0) + g.open_minor
    return out


def ar_metrics(
    session: Session,
    args: MetricsInput,
    *,
    tz: ZoneInfo,
    reporting_currency: str,
    reserve_pct: Iterable[Decimal] = DEFAULT_RESERVE_PCT,
) -> ArMetrics:
    day, reserve = args.as_of or today(tz), tuple(reserve_pct)
    key = ("ar_metrics", day, args.period_days, args.currency, str(tz), reporting_currency, reserve)

    def compute() -> ArMetrics:
        reports, _ = ar_metrics_and_trend(
            session,
            [day],
            [],
            period_days=args.period_days,
            currency=args.currency,
            tz=tz,
            reporting_currency=reporting_currency,
            reserve_pct=reserve,
        )
        return reports[0]

    return cached(session, key, compute)


def ar_metrics_and_trend(
    session: Session,
    report_days: Sequence[date],
    trend_days: Sequence[date],
    *,
    period_days: int,
    currency: str | None = None,
    tz: ZoneInfo,
    reporting_currency: str,
    reserve_pct: Iterable[Decimal] = DEFAULT_RESERVE_PCT,
) -> tuple[list[ArMetrics], list[DsoPoint]]:
    """ar_metrics for each report day, and DSO points for each trend day, equal to ar_metrics'.

    AR at every date comes from one pass over the dated sums of db.ar_sums, and credit sales
    from a few of their rows per date: the Monday digest's two reports and 13-week trend cost
    about one report.
    """
    days = [*report_days, *trend_days]
    cuts = [day_cut(d, tz) for d in days]
    starts = [day_cut(d - timedelta(days=period_days), tz) for d in days]
    n = len(report_days)
    opens = open_sums_at(session, [*cuts, *starts[:n]], currency=currency)
    sales_in = credit_sales_in(session, list(zip(starts, cuts, strict=True)), currency=currency)
    target = currency or reporting_currency
    reports = [
        _metrics(
            session,
            day,
            period_days,
            (starts[k], cuts[k]),
            (opens[len(days) + k], opens[k]),
            sales_in[k],
            currency=currency,
            target=target,
            reserve_pct=tuple(reserve_pct),
        )
        for k, day in enumerate(report_days)
    ]
    if reports:
        label = source_line(session.connection())
        reports = [r.model_copy(update={"source": label}) for r in reports]
    trend = [
        _dso_point(session, day, period_days, opens[k], sales_in[k], target)
        for k, day in enumerate(days)
        if k >= n
    ]
    return reports, trend


def _dso(
    aging: dict[str, int], sales: int, period: int
) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    """(DSO, best possible DSO, average days delinquent) from AR by bucket and credit sales."""
    dso = ratio(sum(aging.values()) * period, sales)
    best = ratio(aging["current"] * period, sales)
    return dso, best, None if dso is None or best is None else dso - best


def _weighted_sums(
    fx: Converter, rows: Iterable[OpenMoney], as_of: date
) -> tuple[Decimal, Decimal]:
    """(sum of open x days past due, sum of open), over the past-due rows, converted exactly."""
    weighted, past_due = Decimal(0), Decimal(0)
    for row in rows:
        days = days_past_due(as_of, row.due_on)
        if days > 0:
            amount = fx.exact(row.open_minor, row.currency)
            weighted += amount * days
            past_due += amount
    return weighted, past_due


@dataclass
class LedgerSums:
    """What every metric of one report is computed from, per currency: the whole ledger's, or a
    group of customers' (tools.cuts)."""

    open_start: list[OpenGroup]
    open_now: list[OpenGroup]
    credit_sales: dict[str, int]
    written_off: dict[str, int]
    attempted: int
    recovered: int
    unapplied: dict[str, int]


@dataclass
class Converted:
    """A report's amounts in the reporting currency, before any ratio is taken."""

    aging: dict[str, int]
    ar_start: int
    sales: int
    written: int
    unapplied: int
    weighted: tuple[Decimal, Decimal]  # sum(open x days past due), sum(open) over past due
    attempted: int
    recovered: int


def convert_sums(fx: Converter, sums: LedgerSums, as_of: date) -> Converted:
    return Converted(
        aging=converted_aging(fx, sums.open_now, as_of),
        ar_start=fx.minor(_totals(sums.open_start)),
        sales=fx.minor(sums.credit_sales),
        written=fx.minor(sums.written_off),
        unapplied=fx.minor(sums.unapplied),
        weighted=_weighted_sums(fx, sums.open_now, as_of),
        attempted=sums.attempted,
        recovered=sums.recovered,
    )


def _metrics(
    session: Session,
    as_of: date,
    period: int,
    window: tuple[datetime, datetime],
    open_groups: tuple[list[OpenGroup], list[OpenGroup]],
    credit_sales: dict[str, int],
    *,
    currency: str | None,
    target: str,
    reserve_pct: Iterable[Decimal],
) -> ArMetrics:
    """The whole ledger's report for one date, from its open amounts at D - P and D."""
    start, cut = window
    attempted, recovered = dunning_counts(session, start, cut, currency=currency)
    sums = LedgerSums(
        open_start=open_groups[0],
        open_now=open_groups[1],
        credit_sales=credit_sales,
        written_off=written_off(session, start, cut, currency=currency),
        attempted=attempted,
        recovered=recovered,
        unapplied=unapplied_cash(session, cut, currency=currency),
    )
    fx = Converter(session, target, as_of)
    return metrics_of(convert_sums(fx, sums, as_of), as_of, period, target, reserve_pct)


def metrics_of(
    c: Converted, as_of: date, period: int, target: str, reserve_pct: Iterable[Decimal]
) -> ArMetrics:
    """DESIGN section 4's formulas, from one report's converted amounts."""
    aging, ar_start, sales = c.aging, c.ar_start, c.sales
    ar = sum(aging.values())
    dso, best, add = _dso(aging, sales, period)
    allowance = round_minor(
        sum(
            (
                Decimal(aging[b]) * pct / HUNDRED
                for b, pct in zip(BUCKETS, reserve_pct, strict=True)
            ),
            Decimal(0),
        )
    )
    cei_den = ar_start + sales - aging["current"]
    return ArMetrics(
        as_of=as_of,
        period_days=period,
        currency=target,
        ar_total_minor=ar,
        aging_minor=aging,
        aging_pct={b: _pct(aging[b], ar) for b in BUCKETS},
        ar_start_minor=ar_start,
        credit_sales_minor=sales,
        dso=dso,
        best_possible_dso=best,
        average_days_delinquent=add,
        ar_turnover=ratio(Decimal(sales) * 365 / period, Decimal(ar_start + ar) / 2),
        cei_pct=_pct(ar_start + sales - ar, cei_den),
        bad_debt_pct=_pct(c.written, sales),
        written_off_minor=c.written,
        weighted_days_past_due=weighted_days_past_due(*c.weighted),
        dunning_recovery_rate_pct=_pct(c.recovered, c.attempted),
        failed_attempt_invoices=c.attempted,
        recovered_invoices=c.recovered,
        allowance_minor=int(allowance),
        unapplied_cash_minor=c.unapplied,
    )


def _pct(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    value = ratio(numerator, denominator)
    return None if value is None else value * HUNDRED


class DsoPoint(BaseModel):
    as_of: date
    ar_total_minor: int
    credit_sales_minor: int
    dso: Decimal | None
    best_possible_dso: Decimal | None
    average_days_delinquent: Decimal | None


def _dso_point(
    session: Session,
    day: date,
    period: int,
    groups: list[OpenGroup],
    credit_sales: dict[str, int],
    target: str,
) -> DsoPoint:
    fx = Converter(session, target, day)
    aging = converted_aging(fx, groups, day)
    ar = sum(aging.values())
    sales = fx.minor(credit_sales)
    dso, best, add = _dso(aging, sales, period)
    return DsoPoint(
        as_of=day,
        ar_total_minor=ar,
        credit_sales_minor=sales,
        dso=dso,
        best_possible_dso=best,
        average_days_delinquent=add,
    )
