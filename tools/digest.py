"""The Monday digest's content as plain data, assembled from the tools everyone else uses.

Nothing here computes a metric: AR, aging, DSO, CEI, bad debt, unapplied cash and dunning
recovery come from `tools.metrics` (the same formulas `arbot report` runs), the top
overdue accounts from `tools.overdue`, disputes from `tools.disputes`, at-risk accounts and
their money at risk from `tools.risk_money`. Every amount is in the reporting currency,
converted by the report's `Converter`; the per-currency amounts stay alongside for the CSV.
The digest only picks dates (the week that just ended, 13 weekly points for the trend),
compares with last week and with the targets, and counts what the bot did.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from decimal import Decimal

from pydantic import BaseModel, Field

from db import jobs as jobs_db
from db.ar_sums import open_sums_at
from tools.cash_week import CashWeek, cash_week
from tools.clock import AsOfDate, day_cut
from tools.deps import ToolDeps
from tools.disputes import DisputeLine, OpenDisputesInput, open_disputes
from tools.look_ahead import LookAhead, look_ahead_parts
from tools.metrics import ArMetrics, Converter, DsoPoint, ar_metrics_and_trend, by_bucket
from tools.open_book import OpenBook
from tools.overdue import TopOverdue, TopOverdueInput, top_overdue
from tools.risk_money import MoneyAtRisk, money_at_risk
from tools.targets import TargetCheck, target_checks

TREND_WEEKS = 13
# Threads of the digest's reads on PostgreSQL, which runs their queries side by side. SQLite
# gets one: each connection of its own fills a page cache of its own, which on a million
# invoices cost more CPU (about 2 s) and memory (about 230 MiB) per thread than it saved.
DIGEST_THREADS = 3
DISPUTE_AGES = (("under 2 days", 0, 1), ("2-7 days", 2, 7), ("8-30 days", 8, 30))


class TrendPoint(BaseModel):
    as_of: date
    dso: Decimal | None
    best_possible_dso: Decimal | None
    average_days_delinquent: Decimal | None


class DisputeAgeRow(BaseModel):
    label: str
    count: int
    currency: str = Field(description="the reporting currency of total_minor")
    total_minor: int = Field(description="the amounts converted, each currency's sum once")
    amounts: dict[str, int] = Field(description="currency -> open disputed amount, minor units")


class Digest(BaseModel):
    company: str
    as_of: date
    week_start: date
    metrics: ArMetrics
    last_week: ArMetrics
    ar_change_minor: int
    trend: list[TrendPoint]
    targets: list[TargetCheck]
    top_overdue: TopOverdue
    aging_by_currency: dict[str, dict[str, int]] = Field(
        description="bucket -> currency -> open minor units, before conversion"
    )
    disputes_by_age: list[DisputeAgeRow]
    disputes: list[DisputeLine]
    at_risk: MoneyAtRisk
    activity: dict[str, int]
    target_dispute_hours: int
    cash: CashWeek | None = None
    looking_ahead: LookAhead | None = None


def week_as_of(today_: date) -> date:
    """The digest's date: the Sunday that closed the last complete week (Mon-Sun)."""
    return today_ - timedelta(days=today_.weekday() + 1)


def _by_age(fx: Converter, lines: list[DisputeLine]) -> list[DisputeAgeRow]:
    rows = []
    for label, low, high in (*DISPUTE_AGES, ("over 30 days", 31, 10**6)):
        picked = [d for d in lines if low <= d.age_days <= high]
        amounts: dict[str, int] = {}
        for d in picked:
            amounts[d.currency] = amounts.get(d.currency, 0) + d.amount_minor
        rows.append(
            DisputeAgeRow(
                label=label,
                count=len(picked),
                currency=fx.target,
                total_minor=fx.minor(amounts),
                amounts=amounts,
            )
        )
    return rows


def _disputes_by_age(deps: ToolDeps, as_of: date, lines: list[DisputeLine]) -> list[DisputeAgeRow]:
    with deps.sessions() as session:
        return _by_age(Converter(session, deps.settings.reporting_currency, as_of), lines)


def _reports_and_trend(deps: ToolDeps, days: list[date]) -> tuple[list[ArMetrics], list[DsoPoint]]:
    s = deps.settings
    with deps.sessions() as session:
        return ar_metrics_and_trend(
            session,
            days[:2],
            days,
            period_days=s.period_days,
            tz=s.tz,
            reporting_currency=s.reporting_currency,
            reserve_pct=s.reserve_rates_pct,
        )


class DigestInput(BaseModel):
    as_of: AsOfDate = Field(description="the Sunday that closes the week (see week_as_of)")


def weekly_digest(deps: ToolDeps, args: DigestInput) -> Digest:
    """Everything the Monday message shows, as of the end of `args.as_of` (a Sunday)."""
    s = deps.settings
    as_of = args.as_of
    days = [as_of - timedelta(weeks=k) for k in range(TREND_WEEKS)]
    threads = 1 if deps.engine.dialect.name == "sqlite" else DIGEST_THREADS
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="arbot-digest") as pool:
        # The longest reads first. This week's and last week's reports and the 13 trend
        # points come from one pass (each equal to `arbot report` for its date, and tested so).
        book = OpenBook(deps, as_of)  # the open invoices, read once for the parts below
        parts = look_ahead_parts(deps, as_of, book)
        ahead_f = {name: pool.submit(part) for name, part in parts.items()}
        risk_f = pool.submit(money_at_risk, deps, as_of, min_level="high", limit=10, book=book)
        overdue_f = pool.submit(
            top_overdue, deps, TopOverdueInput(limit=10, as_of=as_of), book=book
        )
        metrics_f = pool.submit(_reports_and_trend, deps, days)
        disputes = pool.submit(open_disputes, deps, OpenDisputesInput(as_of=as_of)).result()
        (m, prev), trend = metrics_f.result()
        risky, overdue = risk_f.result(), overdue_f.result()
        ahead = LookAhead(**{name: f.result() for name, f in ahead_f.items()})
    week_start = as_of - timedelta(days=6)
    with deps.sessions() as session:
        done = jobs_db.activity(
            session, day_cut(week_start - timedelta(days=1), s.tz), day_cut(as_of, s.tz)
        )
        [groups] = open_sums_at(session, [day_cut(as_of, s.tz)])
    return Digest(
        company=s.company_name,
        as_of=as_of,
        week_start=week_start,
        metrics=m,
        last_week=prev,
        ar_change_minor=m.ar_total_minor - prev.ar_total_minor,
        trend=[
            TrendPoint(
                as_of=p.as_of,
                dso=p.dso,
                best_possible_dso=p.best_possible_dso,
                average_days_delinquent=p.average_days_delinquent,
            )
            for p in reversed(trend)
        ],
        targets=target_checks(s, m, prev),
        top_overdue=overdue,
        aging_by_currency=by_bucket(groups, as_of),
        disputes_by_age=_disputes_by_age(deps, as_of, disputes.disputes),
        disputes=disputes.disputes,
        at_risk=risky,
        activity=done,
        target_dispute_hours=s.target_dispute_hours,
        cash=cash_week(deps, week_start, as_of),
        looking_ahead=ahead,
    )
