"""Why DSO moved between two dates: how much came from terms, how much from lateness, and
which customers (and segments) moved it.

DSO = best possible DSO + average days delinquent (DESIGN section 4), so the move splits
exactly into the move of best possible DSO (what the terms alone would give: current AR over
credit sales) and the move of average days delinquent (what lateness adds). A customer's
share of DSO is its AR over the company's credit sales x P; those shares add up to DSO, so
each customer's change of share is what it moved DSO by, and the customers not listed are
shown as one line that makes the list add up to the move.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from pydantic import BaseModel, Field

from db.customers import customer_facts, customer_segments
from db.exposure import DueRange, open_by_customer_bucket
from tools.clock import AsOfDate, day_cut, today
from tools.deps import ToolDeps
from tools.format import round_ratio
from tools.metrics import ArMetrics, Converter, MetricsInput, ar_metrics
from tools.money import round_minor
from tools.open_book import OpenBook

NO_SEGMENT = "no segment"
ALL: DueRange = ("all", None, None)


class DsoChangeInput(BaseModel):
    as_of: AsOfDate | None = Field(None, description="the later date; today if empty")
    since: AsOfDate | None = Field(None, description="the earlier date; a week before if empty")
    period_days: int | None = Field(
        None, ge=1, le=3650, description="look-back window P in days; ARBOT_PERIOD_DAYS if empty"
    )
    limit: int = Field(5, ge=1, le=50, description="how many customers to name")


class DsoMover(BaseModel):
    customer_id: int | None = Field(description="None on the line of all other customers")
    name: str
    segment: str | None
    change: Decimal = Field(description="days of DSO this customer moved")
    ar_before_minor: int
    ar_after_minor: int


class DsoChange(BaseModel):
    since: date
    as_of: date
    period_days: int
    currency: str
    dso_before: Decimal | None
    dso_after: Decimal | None
    change: Decimal | None
    terms_change: Decimal | None = Field(description="move of best possible DSO")
    lateness_change: Decimal | None = Field(description="move of average days delinquent")
    movers: list[DsoMover] = Field(description="largest moves first, then all other customers")
    by_segment: dict[str, Decimal]

    def shown(self) -> tuple[Decimal, Decimal, Decimal] | None:
        """(move, terms, lateness) rounded as shown, lateness taking the rounding so the two
        parts add up to the move on the page too."""
        if self.change is None or self.terms_change is None:
            return None
        move, terms = round_ratio(self.change), round_ratio(self.terms_change)
        assert move is not None and terms is not None
        return move, terms, move - terms


def _shares(
    deps: ToolDeps, m: ArMetrics, day: date, book: OpenBook | None
) -> dict[int, tuple[Decimal, int]]:  # customer -> (share of DSO, AR in target minor)
    with deps.sessions() as session:
        fx = Converter(session, m.currency, day)
        # A customer's AR per currency, converted exactly (conversion is exact, so this is
        # the sum of its aging buckets converted one by one).
        if book is not None and book.serves(day):
            open_by = book.by_account()
        else:
            rows = open_by_customer_bucket(session, day_cut(day, deps.settings.tz), [ALL])
            open_by = {(row.customer_id, row.currency): row.by_bucket["all"] for row in rows}
        ar: dict[int, Decimal] = {}
        for (cid, cur), minor in open_by.items():
            ar[cid] = ar.get(cid, Decimal(0)) + fx.exact(minor, cur)
    if m.credit_sales_minor == 0:
        return {}
    scale = Decimal(m.period_days) / m.credit_sales_minor
    return {cid: (a * scale, round_minor(a)) for cid, a in ar.items()}


def dso_change(deps: ToolDeps, args: DsoChangeInput, *, book: OpenBook | None = None) -> DsoChange:
    """`book` may hold the open invoices of either date, read already (the digest's)."""
    s = deps.settings
    after_day = args.as_of or today(s.tz)
    before_day = args.since or after_day - timedelta(days=7)
    period = args.period_days or s.period_days
    reports = []
    for day in (before_day, after_day):
        with deps.sessions() as session:
            reports.append(
                ar_metrics(
                    session,
                    MetricsInput(as_of=day, period_days=period),
                    tz=s.tz,
                    reporting_currency=s.reporting_currency,
                    reserve_pct=s.reserve_rates_pct,
                )
            )
    before, after = reports
    change = terms = lateness = None
    movers: list[DsoMover] = []
    by_segment: dict[str, Decimal] = {}
    if after.dso is not None and before.dso is not None:
        change = after.dso - before.dso
        assert after.best_possible_dso is not None and before.best_possible_dso is not None
        terms = after.best_possible_dso - before.best_possible_dso
        lateness = change - terms
        movers, by_segment = _movers(deps, before, after, change, args.limit, book)
    return DsoChange(
        since=before_day,
        as_of=after_day,
        period_days=period,
        currency=after.currency,
        dso_before=before.dso,
        dso_after=after.dso,
        change=change,
        terms_change=terms,
        lateness_change=lateness,
        movers=movers,
        by_segment=by_segment,
    )


def _movers(
    deps: ToolDeps,
    before: ArMetrics,
    after: ArMetrics,
    change: Decimal,
    limit: int,
    book: OpenBook | None,
) -> tuple[list[DsoMover], dict[str, Decimal]]:
    old = _shares(deps, before, before.as_of, book)
    new = _shares(deps, after, after.as_of, book)
    moved = {
        cid: new.get(cid, (Decimal(0), 0))[0] - old.get(cid, (Decimal(0), 0))[0]
        for cid in old.keys() | new.keys()
    }
    top = sorted(moved, key=lambda c: (-abs(moved[c]), c))[:limit]
    with deps.sessions() as session:
        segments = customer_segments(session)
        facts = customer_facts(session, top)
    by_segment: dict[str, Decimal] = {}
    for cid, value in moved.items():
        segment = segments.get(cid) or NO_SEGMENT
        by_segment[segment] = by_segment.get(segment, Decimal(0)) + value
    movers = [
        DsoMover(
            customer_id=cid,
            name=facts[cid].name if cid in facts else str(cid),
            segment=facts[cid].segment if cid in facts else None,
            change=moved[cid],
            ar_before_minor=old.get(cid, (Decimal(0), 0))[1],
            ar_after_minor=new.get(cid, (Decimal(0), 0))[1],
        )
        for cid in top
    ]
    rest = change - sum((m.change for m in movers), Decimal(0))
    if len(moved) > len(top) or rest != 0:
        movers.append(
            DsoMover(
                customer_id=None,
                name="all other customers",
                segment=None,
                change=rest,
                ar_before_minor=before.ar_total_minor - sum(m.ar_before_minor for m in movers),
                ar_after_minor=after.ar_total_minor - sum(m.ar_after_minor for m in movers),
            )
        )
    return movers, dict(sorted(by_segment.items(), key=lambda kv: -abs(kv[1])))
