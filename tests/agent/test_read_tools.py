"""The agent's read tools on SQLite and PostgreSQL, against figures worked out by hand."""

from __future__ import annotations

from decimal import Decimal

from tests.agent.conftest import AS_OF, MakeDeps
from tools.aging import AgingInput, aging
from tools.customer_detail import CustomerDetailInput, customer_detail
from tools.errors import ToolInputError
from tools.payment_history import PaymentHistoryInput, payment_history
from tools.risk import AtRiskInput, score_customers
from tools.risk_money import at_risk


def test_payment_history_per_customer_and_segment(db_url: str, make_deps: MakeDeps) -> None:
    deps = make_deps(db_url)
    per_customer = payment_history(deps, PaymentHistoryInput(segment="enterprise", as_of=AS_OF))
    assert [
        (r.name, r.invoices_paid, r.avg_days_to_pay, r.avg_days_late, r.balance_by_currency)
        for r in per_customer.rows
    ] == [
        ("Globex Corp", 2, Decimal("70.0"), Decimal("40.0"), {"USD": 1_200_000}),
        ("Initech LLC", 1, Decimal("40.0"), Decimal("10.0"), {"USD": 400_000}),
    ]
    fastest = payment_history(deps, PaymentHistoryInput(order="fastest", limit=1, as_of=AS_OF))
    assert [r.name for r in fastest.rows] == ["Umbrella Ltd"] and fastest.more_rows == 2
    segments = payment_history(deps, PaymentHistoryInput(group_by="segment", as_of=AS_OF))
    assert [(r.name, r.avg_days_late) for r in segments.rows] == [
        ("enterprise", Decimal("30.0")),
        ("smb", Decimal("0.0")),
    ]


def test_risk_scores_with_reasons(db_url: str, make_deps: MakeDeps) -> None:
    deps = make_deps(db_url)
    with deps.sessions() as session:
        scores = {s.name: s for s in score_customers(session, AS_OF, tz=deps.settings.tz)}
    globex = scores["Globex Corp"]
    assert globex.reasons == [
        "weighted days past due rose from 61.00 to 91.00 in 30 days",
        "100.00% of the balance is more than 60 days past due: USD 12,000.00 of USD 12,000.00",
        "balance USD 12,000.00 is over the credit limit USD 10,000.00",
        "paying slower: 50.00 days late on average in the last 90 days against 30.00 days late "
        "before",
    ]
    assert (globex.score, globex.level) == (75, "high")
    umbrella = scores["Umbrella Ltd"]
    assert umbrella.reasons == [
        "1 failed payment attempt in the last 90 days",
        "1 open dispute for USD 700.00",
    ]
    assert (umbrella.score, umbrella.level) == (25, "medium")
    assert "Initech LLC" not in scores  # 16 days late on one invoice: no signal yet
    listed = at_risk(deps, AtRiskInput(as_of=AS_OF, min_level="high"))
    assert [a.name for a in listed.accounts] == ["Globex Corp"] and listed.more_accounts == 0


def test_customer_detail_and_aging(db_url: str, make_deps: MakeDeps) -> None:
    deps = make_deps(db_url)
    d = customer_detail(deps, CustomerDetailInput(customer="umbrella", as_of=AS_OF))
    assert d.balance_by_currency == {"USD": 70_000} and d.past_due_by_currency == {"USD": 70_000}
    assert [(i.number, i.days_past_due) for i in d.open_invoices] == [("INV-U2", 29)]
    assert [(p.status, p.failure_reason) for p in d.recent_payments] == [
        ("failed", "card_declined"),
        ("succeeded", None),
    ]
    assert [(x.reason, x.resolved_on) for x in d.disputes] == [("product not received", None)]
    assert d.contacts.ap_email == "ap@u.example.com"
    enterprise = aging(deps, AgingInput(segment="enterprise", as_of=AS_OF))
    assert enterprise.total_minor == 1_600_000
    assert enterprise.buckets_minor["90+"] == 1_200_000
    assert enterprise.buckets_minor["1-30"] == 400_000
    try:
        customer_detail(deps, CustomerDetailInput(customer="zzz"))
    except ToolInputError as exc:
        assert "no customer matches 'zzz'" in str(exc)
    else:
        raise AssertionError("an unknown customer must be refused")
