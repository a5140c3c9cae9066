"""The risk scan scores in full only the accounts whose ceiling reaches the floor, so the
ceiling must never be below the score: any account, any signals."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from db.customers import CustomerFacts
from db.exposure import Exposure
from tools.risk import _ceiling, _score_one, _Signals

money = st.integers(min_value=-(10**9), max_value=10**9)
counts = st.integers(min_value=0, max_value=4)
late = st.none() | st.floats(min_value=-60, max_value=400, allow_nan=False)


@st.composite
def accounts(draw: st.DrawFn) -> tuple[CustomerFacts, Exposure, _Signals]:
    facts = CustomerFacts(
        id=1,
        external_id="C1",
        name="Customer",
        segment=None,
        currency="USD",
        credit_limit_minor=draw(st.none() | st.integers(0, 10**9)),
        owner_slack_id=None,
    )
    balance = draw(st.integers(0, 10**9))
    past_due = draw(st.integers(0, balance))
    exposure = Exposure(
        balance=balance,
        over=draw(st.integers(0, past_due)),
        past_due=past_due,
        weighted=past_due * draw(st.integers(0, 400)),
        past_due_before=(before := draw(st.integers(0, 10**9))),
        weighted_before=before * draw(st.integers(0, 400)),
    )
    history, recent = draw(late), draw(late)
    if draw(st.booleans()) and history is not None:  # right at the slowing threshold
        recent = history + draw(st.sampled_from([9.999999, 10.0, 10.000001]))
    disputes = {1: (1, {"USD": 100})} if draw(st.booleans()) else {}
    signals = _Signals(
        broken={1: draw(counts)},
        failed={1: draw(counts)},
        disputes=disputes,
        days_late={1: (history, recent)},
        exposure={1: balance + draw(st.integers(0, 10**6))},  # other currencies, converted
    )
    return facts, exposure, signals


@settings(max_examples=500, deadline=None)
@given(accounts())
def test_the_ceiling_is_never_below_the_score(
    account: tuple[CustomerFacts, Exposure, _Signals],
) -> None:
    facts, exposure, signals = account
    scored = _score_one(facts, exposure, signals, 1)
    ceiling = _ceiling(facts, exposure, signals)
    assert scored is None or scored.score <= ceiling
