"""Guards on applying bank credits: concurrent lines on one invoice, repeated invoices,
aliases taught only by people, left lines applied later, lines found by the bank's id."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from db.bank_models import BankTxn
from db.models import Invoice, Payment
from tests.cash.ledger import write_ledger
from tests.cash.statements import Line, csv_text
from tests.cli_helpers import arbot
from tools.cash_apply import CashRefused, apply
from tools.cash_match import Allocation
from tools.deps import ToolDeps


def _import(tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[Line]) -> None:
    assert arbot(capsys, "import", str(write_ledger(tmp_path / "l"))).code == 0
    path = tmp_path / "s.csv"
    path.write_text(csv_text(lines))
    run = arbot(capsys, "bank", "import", str(path))
    assert run.code == 0, run.err


def _txn_ids(deps: ToolDeps) -> dict[str, int]:
    with deps.sessions() as s:
        return {str(e): int(i) for e, i in s.execute(select(BankTxn.external_id, BankTxn.id))}


def test_two_lines_applied_at_once_to_one_invoice_pay_it_once(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import(
        tmp_path,
        capsys,
        [
            Line("B1", date(2026, 10, 20), "8000.00", payer="Acme Corporation", remittance="x"),
            Line("B2", date(2026, 10, 21), "8000.00", payer="Acme Corporation", remittance="y"),
        ],
    )
    ids = _txn_ids(deps)
    with deps.sessions() as s:
        inv_id, cust = s.execute(
            select(Invoice.id, Invoice.customer_id).where(Invoice.external_id == "001234")
        ).one()
    gate = threading.Barrier(2)
    results: list[str] = []

    def worker(ref: str) -> None:
        gate.wait()
        try:
            chosen = [Allocation(inv_id, 800000)]
            results.append(apply(deps, ids[ref], "U1", allocations=chosen, customer_id=cust).message)
        except CashRefused as exc:
            results.append(f"refused: {exc}")

    threads = [threading.Thread(target=worker, args=(r,)) for r in ("B1", "B2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with deps.sessions() as s:
        paid = s.execute(select(Payment.amount_minor).where(Payment.invoice_id == inv_id)).all()
    assert [int(a) for (a,) in paid] == [800000]
    assert sorted(r.startswith("refused") for r in results) == [False, True], results
