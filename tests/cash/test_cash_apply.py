"""Applying bank credits: payment rows on the invoices, AR down by exactly the applied amount
at every as-of date from the booking date on (checked against the independent report
computation), the remainder as unapplied cash, the audit row, and once only."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from db.bank_models import BankTxn
from db.models import AuditLog, Payment
from tests.cash.ledger import ledger_files, write_ledger
from tests.cash.statements import Line, csv_text
from tests.cli_helpers import arbot
from tests.reference_metrics import reference_report
from tests.test_metrics_properties import _report
from tools.cash_apply import AlreadyApplied, apply
from tools.deps import ToolDeps

RATES = [{"date": "2026-09-01", "currency": "EUR", "rate": "1.1"}]
LINES = [
    Line(
        "W1", date(2026, 10, 20), "12400.00", payer="ACME CORP", remittance="INV-001234 INV-001235"
    ),
    Line("W2", date(2026, 11, 3), "1100.00", payer="Acme Corporation", remittance="INV-001236"),
    Line("W3", date(2026, 10, 10), "2000.00", payer="Globex Industries", remittance="inv 2001"),
]


def _setup(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, list[dict[str, Any]]]:
    files = ledger_files() | {"fx_rates": RATES}
    assert arbot(capsys, "import", str(write_ledger(tmp_path / "l", fx_rates=RATES))).code == 0
    path = tmp_path / "stmt.csv"
    path.write_text(csv_text(LINES))
    assert arbot(capsys, "bank", "import", str(path)).code == 0
    return files


def _bank_payments(deps: ToolDeps) -> list[tuple[str, int | None, int, str]]:
    with deps.sessions() as s:
        q = select(Payment.external_id, Payment.invoice_id, Payment.amount_minor, Payment.paid_at)
        q = q.where(Payment.source == "bank").order_by(Payment.external_id)
        return [(str(e), i, int(a), p.date().isoformat()) for e, i, a, p in s.execute(q)]


def test_applying_lowers_ar_by_exactly_the_applied_amount_from_the_booking_date(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = _setup(tmp_path, capsys)
    days = [date(2026, 10, 1) + timedelta(days=k) for k in range(0, 60, 3)]
    before = {d: _report(d, 30) for d in days}
    for ref in ("W1", "W2", "W3"):
        run = arbot(capsys, "cash", "apply", "--txn", ref)
        assert run.code == 0, run.err
    # The payments as the ledger's own CSV would have them, for the independent computation.
    files["payments"] = [
        {"payment_id": "p1", "customer_id": "C1", "invoice_id": "001234", "amount": "8000.00",
         "currency": "USD", "paid_on": "2026-10-20", "status": "succeeded"},
        {"payment_id": "p2", "customer_id": "C1", "invoice_id": "001235", "amount": "4400.00",
         "currency": "USD", "paid_on": "2026-10-20", "status": "succeeded"},
        {"payment_id": "p3", "customer_id": "C1", "invoice_id": "001236", "amount": "1000.00",
         "currency": "USD", "paid_on": "2026-11-03", "status": "succeeded"},
        {"payment_id": "p4", "customer_id": "C1", "invoice_id": "", "amount": "100.00",
         "currency": "USD", "paid_on": "2026-11-03", "status": "succeeded"},
        {"payment_id": "p5", "customer_id": "C2", "invoice_id": "002001", "amount": "2000.00",
         "currency": "USD", "paid_on": "2026-10-10", "status": "succeeded"},
    ]  # fmt: skip
    applied_by = {
        date(2026, 10, 20): 1240000,
        date(2026, 11, 3): 100000,
        date(2026, 10, 10): 200000,
    }
    for d in days:
        after = _report(d, 30)
        assert after == reference_report(files, d, 30), d
        dropped = sum(v for booked, v in applied_by.items() if booked <= d)
        ar_before = int(before[d]["ar_total"].replace(".", ""))
        ar_after = int(after["ar_total"].replace(".", ""))
        assert ar_before - ar_after == dropped, d
    assert [(p[0], p[2], p[3]) for p in _bank_payments(deps)] == [
        ("ACC-1/W1/001234", 800000, "2026-10-20"),
        ("ACC-1/W1/001235", 440000, "2026-10-20"),
        ("ACC-1/W2/001236", 100000, "2026-11-03"),
        ("ACC-1/W2/unapplied", 10000, "2026-11-03"),
        ("ACC-1/W3/002001", 200000, "2026-10-10"),
    ]
    with deps.sessions() as s:
        audit = s.execute(select(AuditLog).where(AuditLog.event == "cash_applied")).scalars().all()
    assert len(audit) == 3 and all(a.actor.startswith("cli:") for a in audit)
    assert audit[1].after is not None and audit[1].after["unapplied_minor"] == 10000


def test_a_line_is_applied_once_however_often_it_is_asked(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _setup(tmp_path, capsys)
    with deps.sessions() as s:
        txn_id = s.execute(select(BankTxn.id).where(BankTxn.external_id == "W1")).scalar_one()
    results: list[object] = []
    start = threading.Barrier(4)

    def worker(n: int) -> None:
        start.wait()
        try:
            results.append(apply(deps, txn_id, f"U{n}AAAA"))
        except AlreadyApplied as exc:
            results.append(str(exc))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refusals = [r for r in results if isinstance(r, str)]
    assert len(refusals) == 3 and all(r.startswith("Already applied by <@U") for r in refusals)
    assert [p[2] for p in _bank_payments(deps)] == [800000, 440000]
    again = arbot(capsys, "cash", "apply", "--txn", "W1")
    assert again.code == 2 and "Already applied by" in again.err
    assert len(_bank_payments(deps)) == 2


def test_choosing_invoices_by_hand_and_leaving_a_line_unapplied(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _setup(tmp_path, capsys)
    run = arbot(
        capsys,
        "cash",
        "apply",
        "--txn",
        "W3",
        "--invoice",
        "INV-002002=750",
        "--invoice",
        "INV-002003",
    )
    assert run.code == 0, run.err
    assert run.out.strip() == "Applied USD 2,000.00 to 2 invoice(s)."
    assert {(p[0], p[2]) for p in _bank_payments(deps)} == {
        ("ACC-1/W3/002002", 75000),
        ("ACC-1/W3/002003", 125000),
    }
    too_much = arbot(capsys, "cash", "apply", "--txn", "W2", "--invoice", "INV-002001=99999")
    assert too_much.code == 2
    assert "has USD 2,500.00 open" in too_much.err or "not an open invoice" in too_much.err
    assert arbot(capsys, "cash", "apply", "--txn", "W2", "--leave").out.strip() == "Left unapplied."
    out = arbot(capsys, "cash", "match", "--as-of", "2026-11-30", "--json").json()
    assert [t["bank_txn_id"] for t in out["transactions"]] == ["W3", "W1"]
