"""A promise to pay is kept when the money arrived by the promised day: the risk score and
the "broken promises" answer read it the same way."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from db.models import PromiseToPay
from tests.ledger_files import customer, invoice, payment, write_csvs
from tools.csv_import import import_directory
from tools.customer_detail import CustomerDetailInput, customer_detail
from tools.deps import ToolDeps
from tools.promise_outcome import BrokenPromisesInput, broken_promises
from tools.risk import score_customers

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TODAY = NOW.date()


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


@pytest.fixture
def ledger(deps: ToolDeps, tmp_path: Path) -> ToolDeps:
    names = {"KEPT": "Keeper Ltd", "SHORT": "Shortfall Inc", "LATE": "Latepay AG",
             "SOON": "Soon plc", "ACCT": "Account GmbH", "SAME": "Sameday SA",
             "TWICE": "Twice Co"}  # fmt: skip
    customers = [customer(cid, name=name) for cid, name in names.items()]
    invoices = [
        invoice(f"I-{cid}", "1000.00", day(-70), day(-40), customer_id=cid) for cid in names
    ]
    payments = [
        payment("P-KEPT", "I-KEPT", "1000.00", day(-10), customer_id="KEPT"),
        payment("P-SHORT", "I-SHORT", "400.00", day(-10), customer_id="SHORT"),
        payment("P-LATE", "I-LATE", "1000.00", day(-3), customer_id="LATE"),
        payment("P-ACCT", None, "1000.00", day(-10), customer_id="ACCT"),  # on account
        payment("P-SAME", "I-SAME", "1000.00", day(-8), customer_id="SAME"),
        payment("P-TWICE", None, "1000.00", day(-10), customer_id="TWICE"),
    ]
    write_csvs(tmp_path, customers=customers, invoices=invoices, payments=payments)
    import_directory(deps.engine, tmp_path, tz=deps.settings.tz)
    with deps.engine.connect() as conn:
        cust = {
            str(x): int(i) for x, i in conn.execute(text("SELECT external_id, id FROM customers"))
        }
        inv = {str(n): int(i) for n, i in conn.execute(text("SELECT number, id FROM invoices"))}
    promised = [("KEPT", -10), ("SHORT", -10), ("LATE", -5), ("SOON", 5), ("ACCT", -10),
                ("SAME", -8), ("TWICE", -10), ("TWICE", -9)]  # fmt: skip
    # "I'll pay today", said in the afternoon: the bank books the payment at midnight
    said = {"SAME": datetime.combine(TODAY - timedelta(days=8), time(15), UTC)}
    with deps.sessions() as session, session.begin():
        for cid, offset in promised:
            session.add(
                PromiseToPay(
                    customer_id=cust[cid],
                    invoice_id=None if cid in ("ACCT", "TWICE") else inv[f"INV-I-{cid}"],
                    amount_minor=100000,
                    currency="USD",
                    promised_on=TODAY + timedelta(days=offset),
                    status="open",
                    recorded_by="UCOLLECT1",
                    created_at=said.get(cid, NOW - timedelta(days=20)),
                )
            )
    return deps


def test_broken_promises_list_what_fell_short_and_not_what_was_paid(ledger: ToolDeps) -> None:
    got = broken_promises(ledger, BrokenPromisesInput(as_of=TODAY))
    rows = {p.customer_id: p for p in got.promises}
    # paid on the day the promise was made, and one payment keeps one of two promises
    assert set(rows) == {"SHORT", "LATE", "TWICE"}
    assert rows["TWICE"].promised_on == TODAY - timedelta(days=9)
    assert (rows["TWICE"].paid_by_then_minor, rows["TWICE"].short_minor) == (0, 100000)
    assert (rows["SHORT"].paid_by_then_minor, rows["SHORT"].short_minor) == (40000, 60000)
    # paid in full, but three days after the promised day: broken, by the whole amount
    assert (rows["LATE"].paid_by_then_minor, rows["LATE"].short_minor) == (0, 100000)
    assert rows["LATE"].days_late == 5
    assert [p.customer_id for p in got.promises][-1] == "SHORT"  # largest shortfall first
    assert got.short_total_minor == 260000 and got.count == 3


def test_a_kept_promise_costs_no_risk_points_and_a_broken_one_does(ledger: ToolDeps) -> None:
    with ledger.sessions() as session:
        scores = score_customers(session, TODAY, tz=ledger.settings.tz, min_level="low")
    broken = {s.customer_id: s.signals.broken_promises for s in scores}
    reasons = {s.customer_id: " ".join(s.reasons) for s in scores}
    assert broken.get("SHORT") == 1 and "1 broken promise" in reasons["SHORT"]
    for paid_as_promised in ("KEPT", "ACCT", "SAME"):
        assert broken.get(paid_as_promised, 0) == 0
        assert "broken promise" not in reasons.get(paid_as_promised, "")


def test_a_promise_not_yet_due_is_not_broken_until_its_day_has_passed(ledger: ToolDeps) -> None:
    on_the_day = broken_promises(ledger, BrokenPromisesInput(as_of=TODAY + timedelta(days=5)))
    assert "SOON" not in {p.customer_id for p in on_the_day.promises}
    after = broken_promises(ledger, BrokenPromisesInput(as_of=TODAY + timedelta(days=6)))
    assert "SOON" in {p.customer_id for p in after.promises}


def test_the_customer_view_reads_the_promise_the_same_way(ledger: ToolDeps) -> None:
    for cid, state in (("SHORT", "broken"), ("SAME", "kept"), ("SOON", "open")):
        detail = customer_detail(ledger, CustomerDetailInput(customer=cid, as_of=TODAY))
        assert [p.status for p in detail.promises] == [state], cid
