"""Which accounts are sliding, and why: an explainable at-risk score per customer.

Each signal adds points and a sentence a collector can check against the ledger; the score is
the sum, capped at 100. There is no model behind it on purpose: "62% of the balance is 60+
days late and two promises were broken" is something an account owner can act on, a
probability is not. `score_customers` is the one place the score is computed; the agent's
tool, the daily at-risk scan and the digest all call it. It runs a fixed number of grouped
queries whatever the number of customers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from db.customers import CustomerFacts, customer_facts
from db.disputes import open_dispute_totals
from db.engine import read_beside
from db.exposure import Exposure, customer_exposure
from db.pay_speed import LateAverages, days_late_before_and_after
from db.payments import failed_attempts
from tools.buckets import due_before
from tools.clock import AsOfDate, day_cut
from tools.credit import limit_exposures, over_limit
from tools.format import (
    format_money,
    format_pay_speed,
    format_pct,
    format_ratio,
    plural,
    round_ratio,
)
from tools.metrics import weighted_days_past_due
from tools.promise_outcome import broken_counts

Level = Literal["high", "medium", "low"]
LEVELS: dict[str, int] = {"high": 50, "medium": 25, "low": 1}
MoneyText = Callable[[int, str], str]
Balances = dict[date, dict[tuple[int, str], int]]
"""Per day: open minor units per (customer, currency)."""
"""Writes an amount in minor units of a currency for a reason sentence."""

# Thresholds and points, in one place so the digest and the tests can quote them.
TREND_DAYS = 30  # compare weighted days past due with this many days ago
TREND_RISE_DAYS = Decimal(15)
TREND_FLOOR_DAYS = Decimal(30)  # below a month late, a rising average is just the calendar
TREND_POINTS = 20
OVER_DAYS = 60  # the share of the balance more than this many days past due
OVER_HIGH_PCT, OVER_HIGH_POINTS = Decimal(50), 25
OVER_PCT, OVER_POINTS = Decimal(25), 15
PROMISE_WINDOW_DAYS, PROMISE_POINTS, PROMISE_MAX = 180, 15, 30
FAILED_WINDOW_DAYS, FAILED_POINTS, FAILED_MAX = 90, 10, 20
DISPUTE_POINTS = 15
CREDIT_LIMIT_POINTS = 15
RECENT_DAYS, HISTORY_DAYS = 90, 365
SLOWING_DAYS, SLOWING_POINTS = Decimal(10), 15


class RiskSignals(BaseModel):
    weighted_days_past_due: Decimal | None = None
    weighted_days_past_due_before: Decimal | None = Field(
        None, description=f"the same, {TREND_DAYS} days earlier"
    )
    over_pct: Decimal | None = Field(
        None, description=f"share of the balance more than {OVER_DAYS} days past due"
    )
    broken_promises: int = 0
    failed_payment_attempts: int = 0
    open_disputes: int = 0
    over_credit_limit: bool = False
    avg_days_late_recent: Decimal | None = None
    avg_days_late_history: Decimal | None = None


class RiskScore(BaseModel):
    customer_pk: int = Field(description="internal id, for jobs")
    customer_id: str
    name: str
    segment: str | None
    owner_slack_id: str | None
    currency: str
    balance_minor: int
    over_days: int = Field(description="over_minor is what is more than this many days past due")
    over_minor: int
    score: int = Field(ge=0, le=100)
    level: Level
    reasons: list[str]
    signals: RiskSignals


def _level(score: int) -> Level | None:
    for name, floor in LEVELS.items():
        if score >= floor:
            return name  # type: ignore[return-value]
    return None


def score_customers(
    session: Session,
    as_of: date,
    *,
    tz: ZoneInfo,
    customer_ids: Sequence[int] | None = None,
    segment: str | None = None,
    min_level: Level = "low",
    money: MoneyText = format_money,
    balances_out: Balances | None = None,
) -> list[RiskScore]:
    """Every customer at `min_level` or above, highest score first; `money` writes the amounts
    of the reasons (`tools.risk_money.money_text`: converted, the own currency beside).
    `balances_out` is given each account's open balance per currency at `as_of` and
    TREND_DAYS before, read in the same pass: the daily scan's credit-limit check needs them.

    On PostgreSQL the days-late averages are read on a connection of their own, beside the
    balances (the two longest reads of a scan of every customer): the caller's session must
    not hold uncommitted writes the scores should see.
    """
    cut = day_cut(as_of, tz)
    start = day_cut(as_of - timedelta(days=RECENT_DAYS + HISTORY_DAYS), tz)
    split = day_cut(as_of - timedelta(days=RECENT_DAYS), tz)
    everyone = customer_ids is None and segment is None

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="arbot-risk") as pool:

        def read_days_late(ids: Sequence[int] | None) -> Future[dict[int, LateAverages]]:
            late = days_late_before_and_after
            return read_beside(pool, session, late, start, split, cut, ids)

        late = read_days_late(None) if everyone else None
        facts = customer_facts(session, customer_ids, segment)
        if not facts:
            return []
        ids = None if everyone else list(facts)
        late = late or read_days_late(ids)
        before_day = as_of - timedelta(days=TREND_DAYS)
        # Balances in each customer's own currency (other currencies are not mixed in).
        exposure = customer_exposure(
            session,
            (day_cut(before_day, tz), before_day),
            (cut, as_of),
            over_due_before=due_before(as_of, OVER_DAYS),
            customer_ids=ids,
        )
        days_late = late.result()
    limited = {cid: f.currency for cid, f in facts.items() if f.credit_limit_minor is not None}
    balances = {key: acc.balance for key, acc in exposure.items()}
    if balances_out is not None:
        balances_out[as_of] = balances
        balances_out[before_day] = {key: acc.balance_before for key, acc in exposure.items()}
    signals = _Signals(
        exposure=limit_exposures(session, as_of, balances, limited),
        broken=broken_counts(session, as_of - timedelta(days=PROMISE_WINDOW_DAYS), as_of, tz),
        failed=failed_attempts(
            session, day_cut(as_of - timedelta(days=FAILED_WINDOW_DAYS), tz), cut
        ),
        disputes=open_dispute_totals(session, cut),
        days_late=days_late,
        money=money,
    )
    floor = LEVELS[min_level]
    none = Exposure(0, 0, 0, 0, 0, 0)
    scores = [
        score
        for cid, f in facts.items()
        if _ceiling(f, acc := exposure.get((cid, f.currency), none), signals) >= floor
        and (score := _score_one(f, acc, signals, floor)) is not None
    ]
    scores.sort(key=lambda s: (-s.score, -s.balance_minor, s.name))
    return scores


@dataclass(frozen=True)
class _Signals:
    """The per-customer counts behind the signals that are not balances."""

    broken: dict[int, int]
    failed: dict[int, int]
    disputes: dict[int, tuple[int, dict[str, int]]]
    days_late: dict[int, tuple[float | None, float | None]]  # (history, recent) averages
    exposure: dict[int, int]  # against the credit limit: every currency, converted
    money: MoneyText = format_money  # how the reasons write an amount


Hit = tuple[int, Callable[[], str]]
"""Points, and the sentence that explains them (written only for accounts that make the floor:
a daily scan looks at every customer, and most score nothing)."""


def _trend_hit(wd_now: Decimal | None, wd_before: Decimal | None) -> Hit | None:
    """Deterioration of an existing delinquency: past due both then and now, and older now."""
    if wd_now is None or wd_before is None:
        return None
    if wd_now <= TREND_FLOOR_DAYS or wd_now - wd_before < TREND_RISE_DAYS:
        return None
    return (
        TREND_POINTS,
        lambda: (
            f"weighted days past due rose from {format_ratio(wd_before)} to {format_ratio(wd_now)} "
            f"in {TREND_DAYS} days"
        ),
    )


def _over_share(acc: Exposure) -> Decimal | None:
    return None if acc.balance <= 0 else Decimal(acc.over) * 100 / acc.balance


def _share_hit(acc: Exposure, currency: str, money: MoneyText) -> Hit | None:
    pct = round_ratio(_over_share(acc))  # the share as shown decides, so 49.996% is 50.00%
    if pct is None:
        return None
    points = OVER_HIGH_POINTS if pct >= OVER_HIGH_PCT else OVER_POINTS if pct >= OVER_PCT else 0
    if not points:
        return None
    return (
        points,
        lambda: (
            f"{format_pct(pct)} of the balance is more than {OVER_DAYS} days past due: "
            f"{money(acc.over, currency)} of {money(acc.balance, currency)}"
        ),
    )


def _count_hits(cid: int, sig: _Signals) -> list[Hit]:
    hits: list[Hit] = []
    broken = sig.broken.get(cid, 0)
    if broken:
        hits.append(
            (
                min(broken * PROMISE_POINTS, PROMISE_MAX),
                lambda: (
                    f"{plural(broken, 'broken promise')} to pay in the last "
                    f"{PROMISE_WINDOW_DAYS} days"
                ),
            )
        )
    failed = sig.failed.get(cid, 0)
    if failed:
        hits.append(
            (
                min(failed * FAILED_POINTS, FAILED_MAX),
                lambda: (
                    f"{plural(failed, 'failed payment attempt')} in the last "
                    f"{FAILED_WINDOW_DAYS} days"
                ),
            )
        )
    dispute = sig.disputes.get(cid)
    if dispute is not None:
        n, amounts = dispute
        hits.append(
            (
                DISPUTE_POINTS,
                lambda: (
                    f"{plural(n, 'open dispute')} for "
                    + ", ".join(sig.money(a, c) for c, a in sorted(amounts.items()))
                ),
            )
        )
    return hits


def _limit_hit(f: CustomerFacts, sig: _Signals) -> Hit | None:
    limit, exposure = f.credit_limit_minor, sig.exposure.get(f.id, 0)
    if limit is None or not over_limit(limit, exposure):
        return None
    return (
        CREDIT_LIMIT_POINTS,
        lambda: (
            f"balance {sig.money(exposure, f.currency)} is over the credit limit "
            f"{sig.money(limit, f.currency)}"
        ),
    )


def _slowing_hit(history: Decimal | None, recent: Decimal | None) -> Hit | None:
    if recent is None or history is None or recent - history < SLOWING_DAYS:
        return None
    return (
        SLOWING_POINTS,
        lambda: (
            f"paying slower: {format_pay_speed(recent)} on average in the last "
            f"{RECENT_DAYS} days against {format_pay_speed(history)} before"
        ),
    )


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _ceiling(f: CustomerFacts, acc: Exposure, sig: _Signals) -> int:
    """The most points the account could score, from integer tests alone.

    A daily scan looks at every customer and most score nothing; the sentences and Decimal
    ratios of `_score_one` are worth building only for accounts that could reach the floor.
    Each signal is counted as if it fired whenever it can fire, so this is never below the
    score.
    """
    cid = f.id
    counted = cid in sig.broken or cid in sig.failed or cid in sig.disputes
    points = sum(hit[0] for hit in _count_hits(cid, sig)) if counted else 0
    if acc.past_due > 0 and acc.past_due_before > 0:
        points += TREND_POINTS
    if acc.balance > 0 and acc.over > 0:
        points += max(OVER_HIGH_POINTS, OVER_POINTS)
    if over_limit(f.credit_limit_minor, sig.exposure.get(cid, 0)):
        points += CREDIT_LIMIT_POINTS
    history, recent = sig.days_late.get(f.id, (None, None))
    # floats here, Decimals in the hit: a margin far above float error keeps this an upper bound
    if history is not None and recent is not None and recent - history > float(SLOWING_DAYS) - 1:
        points += SLOWING_POINTS
    return points


def _score_one(f: CustomerFacts, acc: Exposure, sig: _Signals, floor: int) -> RiskScore | None:
    """Points per signal, and a checkable sentence for each; None below `floor`."""
    wd_now = weighted_days_past_due(acc.weighted, acc.past_due)
    wd_before = weighted_days_past_due(acc.weighted_before, acc.past_due_before)
    history, recent = (_decimal(v) for v in sig.days_late.get(f.id, (None, None)))
    hits = [
        hit
        for hit in (
            _trend_hit(wd_now, wd_before),
            _share_hit(acc, f.currency, sig.money),
            *_count_hits(f.id, sig),
            _limit_hit(f, sig),
            _slowing_hit(history, recent),
        )
        if hit is not None
    ]
    score = min(sum(points for points, _ in hits), 100)
    level = _level(score)
    if level is None or score < floor:
        return None
    dispute = sig.disputes.get(f.id)
    return RiskScore(
        customer_pk=f.id,
        customer_id=f.external_id,
        name=f.name,
        segment=f.segment,
        owner_slack_id=f.owner_slack_id,
        currency=f.currency,
        balance_minor=acc.balance,
        over_days=OVER_DAYS,
        over_minor=acc.over,
        score=score,
        level=level,
        reasons=[reason() for _, reason in hits],
        signals=RiskSignals(
            weighted_days_past_due=wd_now,
            weighted_days_past_due_before=wd_before,
            over_pct=_over_share(acc),
            broken_promises=sig.broken.get(f.id, 0),
            failed_payment_attempts=sig.failed.get(f.id, 0),
            open_disputes=0 if dispute is None else dispute[0],
            over_credit_limit=over_limit(f.credit_limit_minor, sig.exposure.get(f.id, 0)),
            avg_days_late_recent=recent,
            avg_days_late_history=history,
        ),
    )


class AtRiskInput(BaseModel):
    as_of: AsOfDate | None = Field(None, description="end-of-day date to score on; today if empty")
    segment: str | None = Field(None, description="only this segment (enterprise, mid-market, smb)")
    min_level: Literal["high", "medium", "low"] = Field(
        "medium", description="lowest risk level to list"
    )
    limit: int = Field(
        10, ge=1, le=50, description="accounts to return, the most money at risk first"
    )
