"""The AR report cut by segment, payment method, currency or account owner.

Each group's report is the one formula of tools.metrics applied to that group's sums, so its
ratios are its own (a segment's DSO is its AR over its credit sales). Its amounts add up to the
whole report's: when several currencies are converted, each group's amount rounds on its own,
and the few minor units of rounding left over go to the group holding the most of that
amount, the way a ledger plugs conversion rounding, so the groups always sum to the total.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field

from db.cuts import (
    CustomerSums,
    CustomerTraits,
    customer_sums,
    customer_traits,
    grouped_open,
)
from db.invoice_totals import written_off_per_customer
from tools.buckets import BUCKETS
from tools.clock import AsOfDate, day_cut, today
from tools.deps import ToolDeps
from tools.metrics import (
    ArMetrics,
    Converted,
    Converter,
    LedgerSums,
    MetricsInput,
    ar_metrics,
    convert_sums,
    metrics_of,
)
from tools.open_book import OpenBook
from tools.report import report_json
from tools.targets import TargetCheck, segment_checks

T = TypeVar("T")
Adder = Callable[[T, int], None]
CutBy = Literal["segment", "method", "currency", "owner"]
CUTS: tuple[CutBy, ...] = ("segment", "method", "currency", "owner")
NONE_LABEL = {
    "segment": "no segment",
    "method": "no payments",
    "currency": "",
    "owner": "no owner",
}


class CutInput(BaseModel):
    by: CutBy = Field(description="segment, method (payment method), currency or owner")
    as_of: AsOfDate | None = Field(None, description="end-of-day date; today if empty")
    period_days: int | None = Field(
        None, ge=1, le=3650, description="look-back window P in days; ARBOT_PERIOD_DAYS if empty"
    )
    group: str | None = Field(None, description="one group alone, e.g. enterprise; all if empty")


class CutReport(BaseModel):
    """The whole report and one report per group; group amounts add up to the whole's."""

    by: CutBy
    total: ArMetrics
    groups: dict[str, ArMetrics]
    checks: dict[str, list[TargetCheck]] = Field(
        default_factory=dict, description="per segment: DSO and share current vs its targets"
    )


def group_name(by: CutBy, traits: CustomerTraits | None, currency: str) -> str:
    value: str | None
    if by == "currency":
        value = currency
    elif traits is None:
        value = None
    else:
        picked = {"segment": traits.segment, "method": traits.method}
        value = picked.get(by, traits.owner_slack_id)
    return value or NONE_LABEL[by]


def _merge(parts: list[CustomerSums]) -> LedgerSums:
    sums = LedgerSums([], [], {}, {}, 0, 0, {})
    for p in parts:
        sums.open_now.extend(p.open_now)
        sums.open_start.extend(p.open_start)
        sums.attempted += p.attempted
        sums.recovered += p.recovered
        for field, amount in (
            (sums.credit_sales, p.credit_sales),
            (sums.written_off, p.written_off),
            (sums.unapplied, p.unapplied),
        ):
            if amount:
                field[p.currency] = field.get(p.currency, 0) + amount
    return sums


def _plug(groups: dict[str, T], whole: int, get: Callable[[T], int], add: Adder[T]) -> None:
    """Give the rounding left over to the group holding the most of the amount."""
    left = whole - sum(get(g) for g in groups.values())
    if left and groups:
        add(max(groups.values(), key=lambda g: abs(get(g))), left)


def cut_report(deps: ToolDeps, args: CutInput, *, book: OpenBook | None = None) -> CutReport:
    """`book` may hold the open invoices at `args.as_of`, read already (the digest's)."""
    s = deps.settings
    day = args.as_of or today(s.tz)
    period = args.period_days or s.period_days
    start, cut = day_cut(day - timedelta(days=period), s.tz), day_cut(day, s.tz)
    whole = MetricsInput(as_of=day, period_days=period)
    reserve = tuple(s.reserve_rates_pct)
    with deps.sessions() as session:
        total = ar_metrics(
            session, whole, tz=s.tz, reporting_currency=s.reporting_currency, reserve_pct=reserve
        )
        written = written_off_per_customer(session, start, cut)
        traits = customer_traits(session, cut, with_method=args.by == "method")
        names: dict[tuple[int, str], str] = {}

        def group_of(cid: int, cur: str) -> str:
            found = names.get((cid, cur))
            if found is None:
                found = names[(cid, cur)] = group_name(args.by, traits.get(cid), cur)
            return found

        open_now = None
        if book is not None and book.serves(day):
            rows = ((r.customer_id, r.currency, r.due_on, r.open_minor, 1) for r in book.rows())
            open_now = grouped_open(rows, group_of)
        per_group = customer_sums(session, start, cut, written, group_of, open_now)
        members: dict[str, list[CustomerSums]] = {}
        for (name, _), sums in per_group.items():
            members.setdefault(name, []).append(sums)
        fx = Converter(session, s.reporting_currency, day)
        converted = {name: convert_sums(fx, _merge(parts), day) for name, parts in members.items()}
    _plug_converted(converted, total)
    groups = {
        name: metrics_of(c, day, period, total.currency, reserve)
        for name, c in sorted(converted.items())
    }

    def add_allowance(m: ArMetrics, left: int) -> None:
        m.allowance_minor += left

    _plug(groups, total.allowance_minor, lambda m: m.allowance_minor, add_allowance)
    if args.group is not None:
        groups = {k: v for k, v in groups.items() if k.lower() == args.group.lower()}
    checks = (
        {name: segment_checks(s, name, m) for name, m in groups.items()}
        if args.by == "segment"
        else {}
    )
    return CutReport(by=args.by, total=total, groups=groups, checks=checks)


def _plug_converted(converted: dict[str, Converted], total: ArMetrics) -> None:
    for b in BUCKETS:
        _plug(converted, total.aging_minor[b], _Field(b, bucket=True), _Field(b, bucket=True).add)
    for name, whole in (
        ("ar_start", total.ar_start_minor),
        ("sales", total.credit_sales_minor),
        ("written", total.written_off_minor),
        ("unapplied", total.unapplied_cash_minor),
    ):
        _plug(converted, whole, _Field(name), _Field(name).add)


class _Field:
    """One amount of a Converted: an aging bucket or an attribute."""

    def __init__(self, name: str, *, bucket: bool = False) -> None:
        self.name, self.bucket = name, bucket

    def __call__(self, c: Converted) -> int:
        return c.aging[self.name] if self.bucket else int(getattr(c, self.name))

    def add(self, c: Converted, left: int) -> None:
        if self.bucket:
            c.aging[self.name] += left
        else:
            setattr(c, self.name, getattr(c, self.name) + left)


def cut_json(r: CutReport) -> dict[str, Any]:
    """What `arbot report --by` prints: the whole's date, window and currency, then each group
    with the keys of the report."""
    return {
        "as_of": r.total.as_of.isoformat(),
        "period_days": r.total.period_days,
        "currency": r.total.currency,
        "groups": {name: report_json(m) for name, m in r.groups.items()},
    }
