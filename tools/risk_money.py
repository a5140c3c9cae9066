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

import logging
from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from tools.deps import ToolDeps
from tools.metrics import Converter, MetricsError
from tools.money import parse_major, round_minor
from tools.risk import Level, RiskScore, score_customers
from tools.settings import Settings

log = logging.getLogger(__name__)


class ScoreInMoney(RiskScore):
    """A risk score with its balance and expected loss in the reporting currency."""

    reporting_currency: str
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
    more_accounts: int = Field(description="accounts at or over the minimum balance not listed")
    small_count: int = Field(description="accounts under the minimum balance")
    small_at_risk_minor: int


def expected_loss_minor(balance_minor: int, score: int) -> int:
    """The expected loss of a balance at a score, half-up to the minor unit."""
    exact = Decimal(max(balance_minor, 0)) * score / 100
    return round_minor(exact)


def min_balance_minor(s: Settings) -> int:
    """ARBOT_RISK_MIN_BALANCE in minor units of the reporting currency."""
    return parse_major(format(s.risk_min_balance, "f"), s.reporting_currency)


def is_material(fx: Converter, s: Settings, currency: str, balance_minor: int) -> bool:
    """At or over ARBOT_RISK_MIN_BALANCE once converted to the reporting currency. Without a
    rate for the currency the account counts as material: an alert is not held back for it."""
    try:
        return fx.minor({currency: balance_minor}) >= min_balance_minor(s)
    except MetricsError:
        return True


def in_money(fx: Converter, scores: list[RiskScore], *, strict: bool = True) -> list[ScoreInMoney]:
    """Each score with its converted balance and expected loss, the largest loss first.

    Not `strict` (the alerts), an account in a currency without a rate keeps its own currency
    rather than holding back every alert; the digest, like the report, needs every rate.
    """
    out = [_in_money(fx, sc, strict=strict) for sc in scores]
    out.sort(key=lambda a: (-a.at_risk_minor, -a.score, a.name))
    return out


def _in_money(fx: Converter, sc: RiskScore, *, strict: bool) -> ScoreInMoney:
    try:
        currency = fx.target
        balance = fx.minor({sc.currency: sc.balance_minor})
        over = fx.minor({sc.currency: sc.over_minor})
    except MetricsError:
        if strict:
            raise
        log.warning("event=risk_unconverted currency=%s on=%s", sc.currency, fx.on)
        currency, balance, over = sc.currency, sc.balance_minor, sc.over_minor
    return ScoreInMoney(
        **sc.model_dump(),
        reporting_currency=currency,
        balance_reporting_minor=balance,
        over_reporting_minor=over,
        at_risk_minor=expected_loss_minor(balance, sc.score),
    )


def scores_in_money(
    session: Session, s: Settings, scores: list[RiskScore], as_of: date, *, strict: bool = True
) -> list[ScoreInMoney]:
    return in_money(Converter(session, s.reporting_currency, as_of), scores, strict=strict)


def money_at_risk(
    deps: ToolDeps, as_of: date, *, min_level: Level = "high", limit: int = 10
) -> MoneyAtRisk:
    """The accounts at `min_level` or above by expected loss: the material ones listed (up to
    `limit`), the ones under the minimum balance counted, the total over all of them."""
    s = deps.settings
    with deps.sessions() as session:
        scores = score_customers(session, as_of, tz=s.tz, min_level=min_level)
        ranked = scores_in_money(session, s, scores, as_of)
    floor = min_balance_minor(s)
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
        more_accounts=max(len(material) - limit, 0),
        small_count=len(small),
        small_at_risk_minor=sum(a.at_risk_minor for a in small),
    )
