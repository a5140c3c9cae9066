"""Cash forecast: when the money open today is expected to come in, week by week.

Each open invoice's open amount is spread over the days its customer has paid on before:
the days late of the customer's invoices due in the year before the last 90 days (each had
time to be paid), the ones never paid counting as "not collected". Only the outcomes still
possible for an invoice this late count, so an invoice 40 days late at a customer who pays
15 to 60 days late lands between 41 and 60 days late, and one later than the customer ever
paid is not expected at all. Too little history (fewer than three invoices) falls back to
the segment's, then to every customer's, then to the customer's terms (issue date + terms;
already past: tomorrow, unless more than SETTLE_DAYS past, which the history would count as
not collected).

Three kinds of invoice follow their own rule, first match wins:
- a promise to pay moves the promised amount to the promised date, less what was paid
  toward it since the day it was recorded (tools.promise_outcome's rule); a newer promise for
  the same invoice (or account) replaces it;
- a disputed amount is lowered to the share of disputes won in the last year and expected
  when disputes usually close;
- an invoice whose last payment attempt failed is weighted by the observed dunning recovery
  rate (the report's) and expected when failed invoices usually recover.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from pydantic import BaseModel, Field, field_validator

from db.ar_sums import dunning_counts
from db.forecast_inputs import (
    customer_terms,
    dispute_history,
    disputed_amounts,
    failed_last_attempts,
    recovery_days,
)
from db.invoices import open_invoices
from db.pay_speed import LateSample, late_samples
from tools.clock import AsOfDate, day_cut, today
from tools.deps import ToolDeps
from tools.forecast_spread import Outcomes, Spreads, Window
from tools.metrics import Converter
from tools.money import format_major, round_minor
from tools.open_book import OpenBook
from tools.promise_outcome import owed_after

WEEKS = 13
MIN_SAMPLES = 3
HISTORY_DAYS = 365
SETTLE_DAYS = 90  # an invoice in the history was due at least this long before the forecast
NO_HISTORY_SHARE = Decimal("0.5")  # disputes won / cards recovered, with nothing observed yet
NO_HISTORY_DAYS = 30


class ForecastInput(BaseModel):
    as_of: AsOfDate | None = Field(None, description="forecast from the end of this day; today")
    days: list[int] = Field(
        default_factory=lambda: [30, 60, 90], description="horizons in days for the totals"
    )

    @field_validator("days")
    @classmethod
    def _horizons(cls, value: list[int]) -> list[int]:
        if not value or any(not 1 <= d <= 365 for d in value):
            raise ValueError("give horizons between 1 and 365 days, e.g. 30,60,90")
        return sorted(set(value))


class ForecastWeek(BaseModel):
    week_start: date
    expected_minor: int


class CashForecast(BaseModel):
    as_of: date
    currency: str
    weeks: list[ForecastWeek]
    totals_minor: dict[int, int] = Field(description="expected within N days after as_of")
    open_ar_minor: int = Field(description="what is open today, converted")
    promised_minor: int = Field(description="of the forecast, moved to a promised date")
    disputed_minor: int = Field(description="open amount under dispute, before lowering")
    failed_card_minor: int = Field(description="open amount whose last attempt failed")
    basis: dict[str, int] = Field(
        description="invoices forecast from the customer's/segment's/company's history or terms"
    )


@dataclass(frozen=True)
class History:
    """How late past invoices were paid, per customer, per segment and over all customers."""

    by_customer: dict[int, Outcomes]
    by_segment: dict[str | None, Outcomes]
    company: Outcomes

    @classmethod
    def of(cls, samples: Sequence[LateSample], segments: dict[int, str | None]) -> History:
        by_customer: dict[int, Outcomes] = {}
        by_segment: dict[str | None, Outcomes] = {}
        company: Outcomes = {}
        for cid, days, n in samples:
            own = by_customer.get(cid)
            if own is None:
                own = by_customer[cid] = {}
            own[days] = own.get(days, 0) + n
            peers = by_segment.get(segment := segments.get(cid))
            if peers is None:
                peers = by_segment[segment] = {}
            peers[days] = peers.get(days, 0) + n
            company[days] = company.get(days, 0) + n
        return cls(by_customer, by_segment, company)


def _on(day: date, when: date) -> date:
    return max(when, day + timedelta(days=1))


@dataclass(frozen=True)
class Rates:
    dispute_share: Decimal
    dispute_days: int
    recovery_share: Decimal
    recovery_days: int


def cash_forecast(
    deps: ToolDeps, args: ForecastInput, *, book: OpenBook | None = None
) -> CashForecast:
    """The forecast from the end of `args.as_of`; `book` may hold that day's open invoices,
    read already (the digest shares them)."""
    s = deps.settings
    day = args.as_of or today(s.tz)
    cut = day_cut(day, s.tz)
    year_ago = day_cut(day - timedelta(days=HISTORY_DAYS), s.tz)
    window = day_cut(day - timedelta(days=s.period_days), s.tz)
    with deps.sessions() as session:
        if book is not None and book.serves(day):
            rows = [r for r in book.rows() if r.open_minor != 0]
        else:
            rows = open_invoices(session, cut)
        terms = customer_terms(session)
        history = History.of(
            late_samples(
                session,
                day - timedelta(days=HISTORY_DAYS),
                day - timedelta(days=SETTLE_DAYS - 1),
                cut,
            ),
            {cid: segment for cid, (segment, _) in terms.items()},
        )
        promises = owed_after(session, day, s.tz)
        disputed = disputed_amounts(session, cut)
        won, resolved, dispute_days = dispute_history(session, year_ago, cut)
        failed = failed_last_attempts(session, cut)
        attempted, recovered = dunning_counts(session, window, cut)
        days_to_recover = recovery_days(session, window, cut)
        fx = Converter(session, s.reporting_currency, day)
        rates = Rates(
            Decimal(won) / resolved if resolved else NO_HISTORY_SHARE,
            round(dispute_days) if resolved else NO_HISTORY_DAYS,
            Decimal(recovered) / attempted if attempted else NO_HISTORY_SHARE,
            NO_HISTORY_DAYS if days_to_recover is None else round(days_to_recover),
        )
        plan = _Plan(day, history, terms, rates)
        plan.promise(promises, rows)
        for row in rows:
            plan.invoice(row, disputed.get(row.invoice_id, 0), failed.get(row.invoice_id))
        return plan.result(fx, args.days, s.reporting_currency)


class _Plan:
    """Expected amounts per date and currency, built invoice by invoice; the amounts spread
    over a payment history are added up per history, due date and currency and spread once
    each, exactly (tools.forecast_spread)."""

    def __init__(
        self,
        day: date,
        history: History,
        terms: dict[int, tuple[str | None, int | None]],
        rates: Rates,
    ) -> None:
        self.day, self.history, self.terms, self.rates = day, history, terms, rates
        self.expected: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
        self.promised: dict[int, int] = {}  # per invoice: the open amount promises took
        self.totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.basis: dict[str, int] = {"customer": 0, "segment": 0, "company": 0, "terms": 0}
        self.spreads = Spreads(day)

    def add(self, when: date, currency: str, amount: Decimal, kind: str | None = None) -> None:
        self.expected[(when, currency)] += amount
        if kind is not None:
            self.totals[kind][currency] += int(amount)

    def promise(self, promises: Sequence[Any], rows: Sequence[Any]) -> None:
        """A promise for one invoice takes from it; one for the account, from its oldest
        invoices first."""
        open_left = {r.invoice_id: r.open_minor for r in rows}
        by_id = {r.invoice_id: r for r in rows}
        by_customer: dict[int, list[Any]] = defaultdict(list)
        for r in rows:  # oldest due first, as open_invoices lists them
            by_customer[r.customer_id].append(r)
        for p in promises:
            if p.invoice_id is None:
                targets = by_customer.get(p.customer_id, [])
            else:  # a promise for an invoice settled since takes nothing
                targets = [by_id[p.invoice_id]] if p.invoice_id in by_id else []
            left = p.amount_minor
            for r in targets:
                if r.currency != p.currency or left <= 0:
                    continue
                take = min(left, open_left[r.invoice_id])
                if take > 0:
                    open_left[r.invoice_id] -= take
                    self.promised[r.invoice_id] = self.promised.get(r.invoice_id, 0) + take
                    self.add(_on(self.day, p.promised_on), r.currency, Decimal(take), "promised")
                    left -= take

    def invoice(self, row: Any, disputed: int, failed_at: Any) -> None:
        day, rates, cur = self.day, self.rates, row.currency
        self.totals["open"][cur] += row.open_minor
        amount = row.open_minor - self.promised.get(row.invoice_id, 0)
        if disputed and amount > 0:
            under = min(disputed, amount)
            self.totals["disputed"][cur] += under
            when = day + timedelta(days=max(rates.dispute_days, 1))
            self.add(when, cur, under * rates.dispute_share)
            amount -= under
        if amount <= 0:
            return
        if failed_at is not None:
            self.totals["failed_card"][cur] += amount
            when = _on(day, failed_at.date() + timedelta(days=rates.recovery_days))
            self.add(when, cur, amount * rates.recovery_share)
            return
        samples, basis = self._samples(row.customer_id)
        if basis == "terms":
            _, terms_days = self.terms.get(row.customer_id, (None, None))
            issued = row.issued_at.date()
            due = row.due_on if terms_days is None else issued + timedelta(days=terms_days)
            if (day - due).days <= SETTLE_DAYS:
                self.add(_on(day, due), cur, Decimal(amount))
        else:
            self.spreads.add(samples, row.due_on, cur, amount)
        self.basis[basis] += 1

    def _samples(self, customer_id: int) -> tuple[Outcomes, str]:
        own = self.history.by_customer.get(customer_id, {})
        if sum(own.values()) >= MIN_SAMPLES:
            return own, "customer"
        segment = self.terms.get(customer_id, (None, None))[0]
        peers = self.history.by_segment.get(segment, {}) if segment else {}
        if sum(peers.values()) >= MIN_SAMPLES:
            return peers, "segment"
        if sum(self.history.company.values()) >= MIN_SAMPLES:
            return self.history.company, "company"
        return {}, "terms"

    def result(self, fx: Converter, horizons: list[int], currency: str) -> CashForecast:
        per_day: dict[date, Decimal] = defaultdict(Decimal)
        for (when, cur), amount in self.expected.items():
            per_day[when] += amount * fx.exact(1, cur)  # conversion is linear
        first = self.day + timedelta(days=1)
        rates = {cur: Fraction(fx.exact(1, cur)) for cur in self.spreads.currencies()}
        windows: list[Window] = [(7 * k + 1, 7 * k + 7) for k in range(WEEKS)]
        windows += [(1, n) for n in horizons]
        spread = dict(zip(windows, self.spreads.windows(windows, rates.__getitem__), strict=True))

        def within(lo: int, hi: int) -> int:
            """Days lo..hi after the forecast's day, rounded once."""
            start, end = self.day + timedelta(days=lo), self.day + timedelta(days=hi)
            total = sum((v for d, v in per_day.items() if start <= d <= end), Decimal(0))
            return round_minor(Fraction(total) + spread[(lo, hi)])

        weeks = [
            ForecastWeek(week_start=first + timedelta(days=7 * k), expected_minor=within(lo, hi))
            for k, (lo, hi) in enumerate(windows[:WEEKS])
        ]

        def converted(kind: str) -> int:
            return fx.minor(dict(self.totals[kind]))

        return CashForecast(
            as_of=self.day,
            currency=currency,
            weeks=weeks,
            totals_minor={n: within(1, n) for n in horizons},
            open_ar_minor=converted("open"),
            promised_minor=converted("promised"),
            disputed_minor=converted("disputed"),
            failed_card_minor=converted("failed_card"),
            basis=self.basis,
        )


def forecast_json(f: CashForecast) -> dict[str, Any]:
    """What `arbot forecast --json` prints: decimal strings in major units."""
    return {
        "as_of": f.as_of.isoformat(),
        "currency": f.currency,
        "weeks": [
            {
                "week_start": w.week_start.isoformat(),
                "expected": format_major(w.expected_minor, f.currency),
            }
            for w in f.weeks
        ],
        "totals": {str(n): format_major(v, f.currency) for n, v in f.totals_minor.items()},
    }
