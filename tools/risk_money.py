"""Money at risk: the at-risk accounts in the reporting currency, ranked by expected loss.

Expected loss (what the digest calls "at risk") is the account's open balance, converted to
the reporting currency at the rate on or before the as-of date (the report's `Converter`),
times its risk score read as a loss likelihood in percent: score 60 on USD 10,000.00 puts
USD 6,000.00 at risk. The score is not a calibrated probability (it is a sum of explainable
signals, see `tools.risk`), but weighting the money by it ranks a USD 110,000 account at
score 50 above a GBP 170 account at score 75, which is the order a collector should chase in.
Accounts whose converted balance is under ARBOT_RISK_MIN_BALANCE are counted, not listed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from db.exposure import open_by_customer_bucket
from tools.buckets import buckets_over, due_ranges
from tools.clock import day_cut, today
from tools.deps import ToolDeps
from tools.format import converted_text
from tools.metrics import Converter, MetricsError, converted_balance
from tools.money import parse_major, round_minor
from tools.open_book import OpenBook
from tools.overdue import buckets_by_customer
from tools.risk import AtRiskInput, Balances, Level, MoneyText, RiskScore, score_customers
from tools.settings import Settings


class ScoreInMoney(RiskScore):
    """A risk score with its balance and expected loss in the reporting currency.

    The balance covers every currency the account owes in, converted: the score reads the
    account's own currency, the money at risk is everything it owes.
    """

    reporting_currency: str = Field(
        description="of the amounts below; the account's own when a rate is missing (alerts)"
    )
    converted: bool = Field(description="False: a currency had no rate, amounts are its own")
    balance_by_currency: dict[str, int] = Field(description="open minor units per currency")
    over_by_currency: dict[str, int] = Field(description="over_minor per currency")
    balance_reporting_minor: int = Field(description="open balance, converted")
    over_reporting_minor: int = Field(description="over_minor, converted")
    at_risk_minor: int = Field(description="expected loss: converted balance x score / 100")


class MoneyAtRisk(BaseModel):
    as_of: date
    currency: str = Field(description="the reporting currency of every amount here")
    min_level: str
    min_balance_minor: int = Field(description="accounts with less open are counted, not listed")
    total_at_risk_minor: int = Field(description="over every account at the level, listed or not")
    account_count: int
    accounts: list[ScoreInMoney] = Field(description="the largest expected losses first")
    top: ScoreInMoney | None = Field(
        description="the largest expected loss of all, listed or under the minimum balance"
    )
    more_accounts: int = Field(description="accounts at or over the minimum balance not listed")
    small_count: int = Field(description="accounts under the minimum balance")
    small_at_risk_minor: int


def expected_loss_minor(balance_minor: int, score: int) -> int:
    """The expected loss of a balance at a score, rounded like every converted amount."""
    return round_minor(Decimal(max(balance_minor, 0)) * score / 100)


def min_balance_minor(fx: Converter, s: Settings) -> int:
    """ARBOT_RISK_MIN_BALANCE (an amount in ARBOT_RISK_MIN_BALANCE_CURRENCY) in minor units of
    the reporting currency, converted at the report's rate."""
    cur = s.risk_min_balance_currency
    try:
        return fx.minor({cur: parse_major(format(s.risk_min_balance, "f"), cur)})
    except MetricsError:
        raise MetricsError(
            f"ARBOT_RISK_MIN_BALANCE is in {cur} and there is no {cur} rate on or before "
            f"{fx.on}: import one in fx_rates.csv, or set ARBOT_RISK_MIN_BALANCE_CURRENCY="
            f"{fx.target} (and the amount in {fx.target})"
        ) from None


def is_material(fx: Converter, s: Settings, currency: str, balance_minor: int) -> bool:
    """At or over ARBOT_RISK_MIN_BALANCE once converted to the reporting currency. Without a
    rate for the currency the account counts as material: an alert is not held back for it."""
    try:
        return fx.minor({currency: balance_minor}) >= min_balance_minor(fx, s)
    except MetricsError:
        return True


Buckets = dict[str, dict[str, int]]
"""Open minor units per aging bucket and currency, one account."""


def in_money(
    fx: Converter, scores: list[RiskScore], open_by: dict[int, Buckets], *, strict: bool = True
) -> list[ScoreInMoney]:
    """Each score with its converted balance and expected loss, the largest loss first.

    Not `strict` (the alerts), an account in a currency without a rate keeps its own currency
    (`Converter.minor_or_none`) rather than holding back every alert, and is listed after
    every converted account: its amounts are not comparable with theirs. The digest, like the
    report, needs every rate.
    """
    out = [_in_money(fx, sc, open_by.get(sc.customer_pk, {}), strict=strict) for sc in scores]
    out.sort(key=lambda a: (not a.converted, -a.at_risk_minor, -a.score, a.name))
    return out


def _in_money(fx: Converter, sc: RiskScore, buckets: Buckets, *, strict: bool) -> ScoreInMoney:
    over_labels = buckets_over(sc.over_days)
    balance_by: dict[str, int] = {}
    over_by: dict[str, int] = {}
    for label, per_cur in buckets.items():
        for cur, minor in per_cur.items():
            balance_by[cur] = balance_by.get(cur, 0) + minor
            if label in over_labels:
                over_by[cur] = over_by.get(cur, 0) + minor
    convertible = strict or fx.minor_or_none(balance_by) is not None
    if convertible:
        converted = converted_balance(fx, buckets)
        currency, balance = fx.target, converted.balance_minor
        over = sum(converted.aging_minor[b] for b in over_labels)
    else:
        currency, balance, over = sc.currency, sc.balance_minor, sc.over_minor
    return ScoreInMoney(
        **sc.model_dump(),
        reporting_currency=currency,
        converted=convertible,
        balance_by_currency={c: a for c, a in balance_by.items() if a},
        over_by_currency={c: a for c, a in over_by.items() if a},
        balance_reporting_minor=balance,
        over_reporting_minor=over,
        at_risk_minor=expected_loss_minor(balance, sc.score),
    )


def money_text(fx: Converter) -> MoneyText:
    """How a reason sentence writes an amount: converted, the own currency beside it, as the
    alerts and the digest write a balance; the own currency alone when there is no rate."""
    return lambda minor, cur: converted_text(
        fx.minor_or_none({cur: minor}), fx.target, {cur: minor}
    )


def scored(
    session: Session,
    s: Settings,
    as_of: date,
    *,
    min_level: Level,
    segment: str | None = None,
    balances_out: Balances | None = None,
) -> list[RiskScore]:
    """`score_customers` with its reasons' amounts written by `money_text`."""
    fx = Converter(session, s.reporting_currency, as_of)
    return score_customers(
        session,
        as_of,
        tz=s.tz,
        segment=segment,
        min_level=min_level,
        money=money_text(fx),
        balances_out=balances_out,
    )


def scores_in_money(
    session: Session,
    s: Settings,
    scores: list[RiskScore],
    as_of: date,
    *,
    strict: bool = True,
    book: OpenBook | None = None,
) -> list[ScoreInMoney]:
    """The scores with everything each account owes, in every currency, converted; from
    `book` when it holds the open invoices at `as_of` (the digest's)."""
    fx = Converter(session, s.reporting_currency, as_of)
    if not scores:
        return []
    if book is not None and book.serves(as_of):
        every = book.buckets()
        open_by = {
            sc.customer_pk: every[sc.customer_pk] for sc in scores if sc.customer_pk in every
        }
        return in_money(fx, scores, open_by, strict=strict)
    rows = open_by_customer_bucket(
        session,
        day_cut(as_of, s.tz),
        due_ranges(as_of),
        customer_ids=[sc.customer_pk for sc in scores],
    )
    return in_money(fx, scores, buckets_by_customer(rows), strict=strict)


def money_at_risk(
    deps: ToolDeps,
    as_of: date,
    *,
    min_level: Level = "high",
    limit: int = 10,
    book: OpenBook | None = None,
) -> MoneyAtRisk:
    """The accounts at `min_level` or above by expected loss: the material ones listed (up to
    `limit`), the ones under the minimum balance counted, the total over all of them."""
    s = deps.settings
    with deps.sessions() as session:
        scores = scored(session, s, as_of, min_level=min_level)
        ranked = scores_in_money(session, s, scores, as_of, book=book)
        floor = min_balance_minor(Converter(session, s.reporting_currency, as_of), s)
    material = [a for a in ranked if a.balance_reporting_minor >= floor]
    small = [a for a in ranked if a.balance_reporting_minor < floor]
    return MoneyAtRisk(
        as_of=as_of,
        currency=s.reporting_currency,
        min_level=min_level,
        min_balance_minor=floor,
        total_at_risk_minor=sum(a.at_risk_minor for a in ranked),
        account_count=len(ranked),
        accounts=material[:limit],
        top=ranked[0] if ranked else None,
        more_accounts=max(len(material) - limit, 0),
        small_count=len(small),
        small_at_risk_minor=sum(a.at_risk_minor for a in small),
    )


class AtRiskList(BaseModel):
    as_of: date
    currency: str = Field(description="the reporting currency of the converted amounts")
    min_level: str
    total_at_risk_minor: int = Field(description="over every account at the level")
    accounts: list[ScoreInMoney] = Field(description="the most money at risk first")
    more_accounts: int = Field(description="accounts at this level not listed")


def at_risk(deps: ToolDeps, args: AtRiskInput) -> AtRiskList:
    """The agent's list, in the digest's and the alerts' order: money at risk, not the score."""
    s = deps.settings
    as_of = args.as_of or today(s.tz)
    with deps.sessions() as session:
        scores = scored(session, s, as_of, min_level=args.min_level, segment=args.segment)
        ranked = scores_in_money(session, s, scores, as_of)
    return AtRiskList(
        as_of=as_of,
        currency=s.reporting_currency,
        min_level=args.min_level,
        total_at_risk_minor=sum(a.at_risk_minor for a in ranked),
        accounts=ranked[: args.limit],
        more_accounts=max(len(ranked) - args.limit, 0),
    )
