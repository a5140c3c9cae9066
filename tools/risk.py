"""Which accounts are sliding, and why: an explainable at-risk score per customer.

Each signal adds points and a sentence a collector can check against the ledger; the score is
the sum, capped at 100. There is no model behind it on purpose: "62% of the balance is 60+
days late and two promises were broken" is something an account owner can act on, a
probability is not. `score_customers` is the one place the score is computed; the agent's
tool, the daily at-risk scan and the digest all call it. It runs a fixed number of grouped
queries whatever the number of customers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from db import agent_sql as q
from db import metrics_sql
from db.metrics_sql import OpenGroup
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


@dataclass
class _Open:
    balance: int = 0
    over_60: int = 0
    weighted: Decimal = Decimal(0)
    past_due: int = 0
    by_currency: dict[str, int] = field(default_factory=dict)


def _open_by_customer(
    groups: Sequence[OpenGroup], as_of: date, currency_of: dict[int, str]
) -> dict[int, _Open]:
    """Balances in each customer's own currency (other currencies are not mixed in)."""
    out: dict[int, _Open] = {}
    for g in groups:
        cid = int(g.customer_id or 0)
        acc = out.setdefault(cid, _Open())
        acc.by_currency[g.currency] = acc.by_currency.get(g.currency, 0) + g.open_minor
        if g.currency != currency_of.get(cid):
            continue
        days = (as_of - g.due_on).days
        acc.balance += g.open_minor
        if days > 60:
            acc.over_60 += g.open_minor
        if days > 0:
            acc.weighted += Decimal(g.open_minor) * days
            acc.past_due += g.open_minor
    return out


def _wdpd(acc: _Open | None) -> Decimal | None:
    if acc is None or acc.past_due <= 0:
        return None
    return acc.weighted / acc.past_due


def _r1(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


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
) -> list[RiskScore]:
    """Every customer with at least one risk signal, highest score first."""
    cut = day_cut(as_of, tz)
    facts = q.customer_facts(session, customer_ids, segment)
    if not facts:
        return []
    ids = list(facts) if (customer_ids is not None or segment is not None) else None
    currency_of = {cid: f.currency for cid, f in facts.items()}
    now = _open_by_customer(
        metrics_sql.open_groups(session, cut, per_customer=True, customer_ids=ids),
        as_of,
        currency_of,
    )
    before_day = as_of - timedelta(days=TREND_DAYS)
    before = _open_by_customer(
        metrics_sql.open_groups(
            session, day_cut(before_day, tz), per_customer=True, customer_ids=ids
        ),
        before_day,
        currency_of,
    )
    promises = q.broken_promises(session, as_of - timedelta(days=PROMISE_WINDOW_DAYS), as_of)
    failed = q.failed_attempts(
        session, day_cut(as_of - timedelta(days=FAILED_WINDOW_DAYS), tz), cut
    )
    disputes = q.open_disputes(session, cut)
    recent_start = day_cut(as_of - timedelta(days=RECENT_DAYS), tz)
    history_start = day_cut(as_of - timedelta(days=RECENT_DAYS + HISTORY_DAYS), tz)
    recent = {
        r.key: r for r in q.pay_speed(session, recent_start, cut, by="customer", customer_ids=ids)
    }
    history = {
        r.key: r
        for r in q.pay_speed(session, history_start, recent_start, by="customer", customer_ids=ids)
    }

    scores = [
        score
        for cid, f in facts.items()
        if (
            score := _score_one(
                f,
                now.get(cid, _Open()),
                _wdpd(now.get(cid)),
                _wdpd(before.get(cid)),
                promises.get(cid, 0),
                failed.get(cid, 0),
                disputes.get(cid),
                recent.get(cid),
                history.get(cid),
            )
        )
        is not None
    ]
    scores.sort(key=lambda s: (-s.score, -s.balance_minor, s.name))
    return scores


def _score_one(
    f: q.CustomerFacts,
    acc: _Open,
    wd_now: Decimal | None,
    wd_before: Decimal | None,
    broken: int,
    failed: int,
    dispute: tuple[int, dict[str, int]] | None,
    rec: q.PaySpeedRow | None,
    hist: q.PaySpeedRow | None,
) -> RiskScore | None:
    """Points and a checkable sentence per signal; None when no signal fired."""

    def money(minor: int) -> str:
        return format_money(minor, f.currency)

    points, reasons = 0, []
    signals = RiskSignals(
        weighted_days_past_due=None if wd_now is None else _r1(wd_now),
        weighted_days_past_due_before=None if wd_before is None else _r1(wd_before),
        avg_days_late_recent=None if rec is None else _r1(rec.avg_days_late),
        avg_days_late_history=None if hist is None else _r1(hist.avg_days_late),
    )
    # Deterioration of an existing delinquency: past due both then and now, and older now.
    if (
        wd_now is not None
        and wd_before is not None
        and wd_now > TREND_FLOOR_DAYS
        and wd_now - wd_before >= TREND_RISE_DAYS
    ):
        points += TREND_POINTS
        reasons.append(
            f"weighted days past due rose from {_r1(wd_before)} to {_r1(wd_now)} "
            f"in {TREND_DAYS} days"
        )
    if acc.balance > 0:
        pct = _r1(Decimal(acc.over_60) * 100 / acc.balance)
        signals.over_60_pct = pct
        share_points = (
            OVER_60_HIGH_POINTS
            if pct >= OVER_60_HIGH_PCT
            else OVER_60_POINTS
            if pct >= OVER_60_PCT
            else 0
        )
        if share_points:
            points += share_points
            reasons.append(
                f"{pct}% of the balance ({money(acc.over_60)} of {money(acc.balance)}) is more "
                "than 60 days past due"
            )
    if broken:
        signals.broken_promises = broken
        points += min(broken * PROMISE_POINTS, PROMISE_MAX)
        reasons.append(f"{broken} broken promise(s) to pay in the last {PROMISE_WINDOW_DAYS} days")
    if failed:
        signals.failed_payment_attempts = failed
        points += min(failed * FAILED_POINTS, FAILED_MAX)
        reasons.append(f"{failed} failed payment attempt(s) in the last {FAILED_WINDOW_DAYS} days")
    if dispute is not None:
        n, amounts = dispute
        signals.open_disputes = n
        points += DISPUTE_POINTS
        shown = ", ".join(format_money(a, c) for c, a in sorted(amounts.items()))
        reasons.append(f"{n} open dispute(s) for {shown}")
    limit = f.credit_limit_minor
    if limit is not None and acc.balance > limit:
        signals.over_credit_limit = True
        points += CREDIT_LIMIT_POINTS
        reasons.append(f"balance {money(acc.balance)} is over the credit limit {money(limit)}")
    if (
        rec is not None
        and hist is not None
        and rec.avg_days_late - hist.avg_days_late >= SLOWING_DAYS
    ):
        points += SLOWING_POINTS
        reasons.append(
            f"paying slower: {_r1(rec.avg_days_late)} days late on average in the last "
            f"{RECENT_DAYS} days against {_r1(hist.avg_days_late)} before"
        )
    score = min(points, 100)
    level = _level(score)
    if level is None:
        return None
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
        reasons=reasons,
        signals=signals,
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
        scores = score_customers(session, as_of, tz=tz, segment=args.segment)
    floor = LEVELS[args.min_level]
    kept = [s for s in scores if s.score >= floor]
    return AtRiskList(
        as_of=as_of,
        min_level=args.min_level,
        accounts=kept[: args.limit],
        more_accounts=max(len(kept) - args.limit, 0),
    )
