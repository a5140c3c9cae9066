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
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from db import agent_sql as q
from tools.clock import day_cut, today
from tools.deps import ToolDeps
from tools.money import format_money

Level = Literal["high", "medium", "low"]
LEVELS: dict[str, int] = {"high": 50, "medium": 25, "low": 1}

# Thresholds and points, in one place so the digest and the tests can quote them.
TREND_DAYS = 30  # compare weighted days past due with this many days ago
TREND_RISE_DAYS = Decimal(15)
TREND_FLOOR_DAYS = Decimal(30)  # below a month late, a rising average is just the calendar
TREND_POINTS = 20
OVER_60_HIGH_PCT, OVER_60_HIGH_POINTS = Decimal(50), 25
OVER_60_PCT, OVER_60_POINTS = Decimal(25), 15
PROMISE_WINDOW_DAYS, PROMISE_POINTS, PROMISE_MAX = 180, 15, 30
FAILED_WINDOW_DAYS, FAILED_POINTS, FAILED_MAX = 90, 10, 20
DISPUTE_POINTS = 15
CREDIT_LIMIT_POINTS = 15
RECENT_DAYS, HISTORY_DAYS = 90, 365
ZERO_PCT = Decimal("0.0")
SLOWING_DAYS, SLOWING_POINTS = Decimal(10), 15


class RiskSignals(BaseModel):
    weighted_days_past_due: Decimal | None = None
    weighted_days_past_due_before: Decimal | None = Field(
        None, description=f"the same, {TREND_DAYS} days earlier"
    )
    over_60_pct: Decimal | None = Field(None, description="share of the balance 60+ days late")
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
    over_60_minor: int
    score: int = Field(ge=0, le=100)
    level: Level
    reasons: list[str]
    signals: RiskSignals


def _wdpd(weighted: int, past_due: int) -> Decimal | None:
    return None if past_due <= 0 else Decimal(weighted) / past_due


def _r1(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _r1_or_none(value: Decimal | float | None) -> Decimal | None:
    return None if value is None else _r1(Decimal(str(value)))


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
) -> list[RiskScore]:
    """Every customer at `min_level` or above, highest score first."""
    cut = day_cut(as_of, tz)
    facts = q.customer_facts(session, customer_ids, segment)
    if not facts:
        return []
    ids = list(facts) if (customer_ids is not None or segment is not None) else None
    before_day = as_of - timedelta(days=TREND_DAYS)
    # Balances in each customer's own currency (other currencies are not mixed in).
    exposure = q.customer_exposure(
        session, (day_cut(before_day, tz), before_day), (cut, as_of), customer_ids=ids
    )
    days_late = q.days_late_before_and_after(
        session,
        day_cut(as_of - timedelta(days=RECENT_DAYS + HISTORY_DAYS), tz),
        day_cut(as_of - timedelta(days=RECENT_DAYS), tz),
        cut,
        ids,
    )
    signals = _Signals(
        broken=q.broken_promises(session, as_of - timedelta(days=PROMISE_WINDOW_DAYS), as_of),
        failed=q.failed_attempts(
            session, day_cut(as_of - timedelta(days=FAILED_WINDOW_DAYS), tz), cut
        ),
        disputes=q.open_disputes(session, cut),
        days_late=days_late,
    )
    floor = LEVELS[min_level]
    none = q.Exposure(0, 0, 0, 0, 0, 0)
    scores = [
        score
        for cid, f in facts.items()
        if (score := _score_one(f, exposure.get((cid, f.currency), none), signals, floor))
        is not None
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


def _score_one(f: q.CustomerFacts, acc: q.Exposure, sig: _Signals, floor: int) -> RiskScore | None:
    """Points per signal, and a checkable sentence for each; None below `floor`.

    Points are added up first and the sentences written only for accounts that make the
    floor: a daily scan looks at every customer, and most score nothing.
    """

    def money(minor: int) -> str:
        return format_money(minor, f.currency)

    hits: list[tuple[int, Callable[[], str]]] = []
    wd_now = _wdpd(acc.weighted, acc.past_due)
    wd_before = _wdpd(acc.weighted_before, acc.past_due_before)
    # Deterioration of an existing delinquency: past due both then and now, and older now.
    if (
        wd_now is not None
        and wd_before is not None
        and wd_now > TREND_FLOOR_DAYS
        and wd_now - wd_before >= TREND_RISE_DAYS
    ):
        hits.append(
            (
                TREND_POINTS,
                lambda: (
                    f"weighted days past due rose from {_r1(wd_before)} to {_r1(wd_now)} "
                    f"in {TREND_DAYS} days"
                ),
            )
        )
    over_60_pct = None
    if acc.balance > 0:
        over_60_pct = _r1(Decimal(acc.over_60) * 100 / acc.balance) if acc.over_60 else ZERO_PCT
        pct = over_60_pct
        share_points = (
            OVER_60_HIGH_POINTS
            if pct >= OVER_60_HIGH_PCT
            else OVER_60_POINTS
            if pct >= OVER_60_PCT
            else 0
        )
        if share_points:
            hits.append(
                (
                    share_points,
                    lambda: (
                        f"{pct}% of the balance ({money(acc.over_60)} of "
                        f"{money(acc.balance)}) is more than 60 days past due"
                    ),
                )
            )
    broken = sig.broken.get(f.id, 0)
    if broken:
        hits.append(
            (
                min(broken * PROMISE_POINTS, PROMISE_MAX),
                lambda: f"{broken} broken promise(s) to pay in the last {PROMISE_WINDOW_DAYS} days",
            )
        )
    failed = sig.failed.get(f.id, 0)
    if failed:
        hits.append(
            (
                min(failed * FAILED_POINTS, FAILED_MAX),
                lambda: f"{failed} failed payment attempt(s) in the last {FAILED_WINDOW_DAYS} days",
            )
        )
    dispute = sig.disputes.get(f.id)
    if dispute is not None:
        n, amounts = dispute
        hits.append(
            (
                DISPUTE_POINTS,
                lambda: (
                    f"{n} open dispute(s) for "
                    + ", ".join(format_money(a, c) for c, a in sorted(amounts.items()))
                ),
            )
        )
    limit = f.credit_limit_minor
    over_limit = limit is not None and acc.balance > limit
    if over_limit:
        hits.append(
            (
                CREDIT_LIMIT_POINTS,
                lambda: (
                    f"balance {money(acc.balance)} is over the credit limit {money(limit or 0)}"
                ),
            )
        )
    hist_raw, rec_raw = sig.days_late.get(f.id, (None, None))
    if (
        rec_raw is not None
        and hist_raw is not None
        and Decimal(str(rec_raw)) - Decimal(str(hist_raw)) >= SLOWING_DAYS
    ):
        hits.append(
            (
                SLOWING_POINTS,
                lambda: (
                    f"paying slower: {rec} days late on average in the last "
                    f"{RECENT_DAYS} days against {hist} before"
                ),
            )
        )
    score = min(sum(points for points, _ in hits), 100)
    level = _level(score)
    if level is None or score < floor:
        return None
    rec, hist = _r1_or_none(rec_raw), _r1_or_none(hist_raw)
    return RiskScore(
        customer_pk=f.id,
        customer_id=f.external_id,
        name=f.name,
        segment=f.segment,
        owner_slack_id=f.owner_slack_id,
        currency=f.currency,
        balance_minor=acc.balance,
        over_60_minor=acc.over_60,
        score=score,
        level=level,
        reasons=[reason() for _, reason in hits],
        signals=RiskSignals(
            weighted_days_past_due=None if wd_now is None else _r1(wd_now),
            weighted_days_past_due_before=None if wd_before is None else _r1(wd_before),
            over_60_pct=over_60_pct,
            broken_promises=broken,
            failed_payment_attempts=failed,
            open_disputes=0 if dispute is None else dispute[0],
            over_credit_limit=over_limit,
            avg_days_late_recent=rec,
            avg_days_late_history=hist,
        ),
    )


class AtRiskInput(BaseModel):
    as_of: date | None = Field(None, description="end-of-day date to score on; today if empty")
    segment: str | None = Field(None, description="only this segment (enterprise, mid-market, smb)")
    min_level: Literal["high", "medium", "low"] = Field(
        "medium", description="lowest risk level to list"
    )
    limit: int = Field(10, ge=1, le=50, description="accounts to return, riskiest first")


class AtRiskList(BaseModel):
    as_of: date
    min_level: str
    accounts: list[RiskScore]
    more_accounts: int = Field(description="accounts at this level not listed")


def at_risk(deps: ToolDeps, args: AtRiskInput) -> AtRiskList:
    tz = deps.settings.tz
    as_of = args.as_of or today(tz)
    with deps.sessions() as session:
        scores = score_customers(
            session, as_of, tz=tz, segment=args.segment, min_level=args.min_level
        )
    return AtRiskList(
        as_of=as_of,
        min_level=args.min_level,
        accounts=scores[: args.limit],
        more_accounts=max(len(scores) - args.limit, 0),
    )
