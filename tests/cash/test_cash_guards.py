"""Guards on applying bank credits: concurrent lines on one invoice, repeated invoices,
aliases taught only by people, left lines applied later, lines found by the bank's id."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from db.bank_models import BankTxn, PayerAlias
from db.models import Invoice, Payment
from tests.cash.ledger import write_ledger
from tests.cash.statements import Line, csv_text
from tests.cli_helpers import arbot
from tools.cash_apply import CashRefused, apply, auto_apply
from tools.cash_keys import payer_key, reference_keys
from tools.cash_match import Allocation
from tools.cash_week import cash_week
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
            results.append(
                apply(deps, ids[ref], "U1", allocations=chosen, customer_id=cust).message
            )
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


def _rule(deps: ToolDeps, threshold: float) -> ToolDeps:
    update = {"cash_auto_apply_confidence": threshold}
    return ToolDeps(deps.settings.model_copy(update=update), deps.engine, deps.sessions)


def _match_json(capsys: pytest.CaptureFixture[str]) -> dict[str, dict[str, object]]:
    out = arbot(capsys, "cash", "match", "--as-of", "2026-11-30", "--json").json()
    return {t["bank_txn_id"]: t for t in out["transactions"]}


def test_a_payer_sharing_one_word_with_a_customer_is_not_applied_on_the_amount(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import(
        tmp_path,
        capsys,
        [
            Line("P1", date(2026, 11, 2), "8000.00", payer="ACME PLUMBING SERVICES", remittance=""),
            Line("P2", date(2026, 11, 2), "3750.00", payer="Globex Plumbing", remittance=""),
            Line("P3", date(2026, 11, 2), "1000.00", payer="ACME CORP", remittance=""),
            Line("P4", date(2026, 11, 2), "1250.00", payer="Glboex Industreis", remittance=""),
        ],
    )
    found = _match_json(capsys)
    for ref in ("P1", "P2"):
        suggestion = found[ref]["suggestion"]
        assert isinstance(suggestion, dict) and suggestion["confidence"] <= 0.8, found[ref]
    for ref in ("P3", "P4"):  # the customer's own name, as written or misspelt
        control = found[ref]["suggestion"]
        assert isinstance(control, dict) and control["confidence"] >= 0.9, found[ref]
    done = apply_rule(_rule(deps, 0.9), _txn_ids(deps))
    assert done == {"P3", "P4"}


def test_a_converted_amount_stays_below_the_auto_apply_level(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rates = [{"date": "2026-10-01", "currency": "EUR", "rate": "1.1"}]
    assert arbot(capsys, "import", str(write_ledger(tmp_path / "l", fx_rates=rates))).code == 0
    path = tmp_path / "s.csv"
    line = Line("F1", date(2026, 11, 2), "990.00", payer="Initech GmbH", remittance="INV-003001")
    path.write_text(csv_text([line]))
    assert arbot(capsys, "bank", "import", str(path)).code == 0
    suggestion = _match_json(capsys)["F1"]["suggestion"]
    assert isinstance(suggestion, dict)
    assert suggestion["allocations"] == [{"invoice_id": "003001", "amount": "900.00"}]
    assert suggestion["confidence"] < 0.9
    assert apply_rule(_rule(deps, 0.9), _txn_ids(deps)) == set()


def apply_rule(rule: ToolDeps, ids: dict[str, int]) -> set[str]:
    """Which lines the auto-apply rule applied, by the bank's id."""
    by_id = {v: k for k, v in ids.items()}
    return {by_id[a.txn_id] for a in auto_apply(rule, list(ids.values()))}


def test_only_a_person_applying_teaches_a_payer_name(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import(
        tmp_path,
        capsys,
        [
            Line("T1", date(2026, 11, 2), "8000.00", payer="ACME CORP", remittance="INV-001234"),
            Line("T2", date(2026, 11, 2), "2500.00", payer="GLOBEX", remittance="INV-002001"),
        ],
    )
    ids = _txn_ids(deps)
    assert apply_rule(_rule(deps, 0.9), {"T1": ids["T1"]}) == {"T1"}
    with deps.sessions() as s:
        assert s.execute(select(PayerAlias.payer_key)).all() == []
    assert arbot(capsys, "cash", "apply", "--txn", "T2").code == 0
    with deps.sessions() as s:
        assert [str(k) for (k,) in s.execute(select(PayerAlias.payer_key))] == [payer_key("GLOBEX")]


def test_a_line_left_unapplied_still_counts_and_can_be_applied_later(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import(
        tmp_path,
        capsys,
        [Line("L1", date(2026, 11, 2), "8000.00", payer="Acme Corporation", remittance="INV-1234")],
    )
    assert arbot(capsys, "cash", "apply", "--txn", "L1", "--leave").code == 0
    week = cash_week(deps, date(2026, 11, 2), date(2026, 11, 8))
    assert week.still_unapplied == {"USD": 800000}
    assert apply_rule(_rule(deps, 0.5), _txn_ids(deps)) == set()  # the rule never overrides
    again = arbot(capsys, "cash", "apply", "--txn", "L1")
    assert again.code == 0, again.err
    assert again.out.strip() == "Applied USD 8,000.00 to 1 invoice(s)."
    with deps.sessions() as s:
        paid = s.execute(select(Payment.external_id).where(Payment.source == "bank")).all()
        status = s.execute(select(BankTxn.status)).scalar_one()
    assert [str(e) for (e,) in paid] == ["ACC-1/L1/001234"] and status == "applied"
    assert cash_week(deps, date(2026, 11, 2), date(2026, 11, 8)).still_unapplied == {}


def test_the_same_invoice_chosen_twice_is_refused_clearly(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import(
        tmp_path,
        capsys,
        [Line("W3", date(2026, 10, 10), "2000.00", payer="Globex Industries", remittance="x")],
    )
    args = ["--invoice", "INV-002002=100", "--invoice", "INV-002002=200"]
    run = arbot(capsys, "cash", "apply", "--txn", "W3", *args)
    assert run.code == 2
    assert "INV-002002 is chosen more than once" in run.err and "USD 300.00" in run.err
    with deps.sessions() as s:
        assert s.execute(select(Payment.id).where(Payment.source == "bank")).all() == []
        assert s.execute(select(BankTxn.status)).scalar_one() == "unapplied"


def test_an_id_longer_than_its_column_is_refused_by_line(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert arbot(capsys, "import", str(write_ledger(tmp_path / "l"))).code == 0
    path = tmp_path / "s.csv"
    lines = [
        Line("OK1", date(2026, 10, 20), "10.00", payer="a", remittance="b"),
        Line("X" * 300, date(2026, 10, 20), "10.00", payer="a", remittance="b"),
    ]
    path.write_text(csv_text(lines))
    run = arbot(capsys, "bank", "import", str(path))
    assert run.code == 2
    assert "s.csv:3: txn_id is 300 characters long; at most 255" in run.err
    with deps.sessions() as s:
        assert s.execute(select(BankTxn.id)).all() == []


def test_a_long_bank_id_still_gets_payment_ids_that_fit(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long_id = "Y" * 255
    _import(
        tmp_path,
        capsys,
        [Line(long_id, date(2026, 10, 20), "8000.00", payer="Acme Corporation", remittance="x")],
    )
    run = arbot(capsys, "cash", "apply", "--txn", long_id, "--invoice", "INV-001234")
    assert run.code == 0, run.err
    with deps.sessions() as s:
        [(ext,)] = s.execute(select(Payment.external_id).where(Payment.source == "bank")).all()
    assert len(ext) == 255 and ext.startswith(f"ACC-1/{long_id[:100]}")


def test_a_line_is_found_by_the_bank_id_match_shows_even_when_numeric(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import(
        tmp_path,
        capsys,
        [
            Line("2", date(2026, 10, 20), "8000.00", payer="Acme Corporation", remittance="x"),
            Line("1", date(2026, 10, 21), "2500.00", payer="Globex Industries", remittance="y"),
        ],
    )
    shown = _match_json(capsys)["1"]
    assert shown["payer_name"] == "Globex Industries"
    assert arbot(capsys, "cash", "apply", "--txn", "1").code == 0
    with deps.sessions() as s:
        status = dict(s.execute(select(BankTxn.external_id, BankTxn.status)).all())
    assert status == {"1": "applied", "2": "unapplied"}
    other = tmp_path / "other.csv"
    other.write_text(
        csv_text([Line("2", date(2026, 10, 22), "1.00", remittance="z")], account="ACC-2")
    )
    assert arbot(capsys, "bank", "import", str(other)).code == 0
    both = arbot(capsys, "cash", "apply", "--txn", "2")
    assert both.code == 2 and "several accounts (ACC-1, ACC-2): give --account" in both.err
    run = arbot(capsys, "cash", "apply", "--txn", "2", "--account", "ACC-1", "--leave")
    assert run.code == 0, run.err
    with deps.sessions() as s:
        rows = s.execute(select(BankTxn.account, BankTxn.status).where(BankTxn.external_id == "2"))
        assert dict(rows.all()) == {"ACC-1": "left", "ACC-2": "unapplied"}


@pytest.mark.parametrize(
    ("reference", "keys"),
    [
        ("INTEREST 2026-11-30", []),
        ("Interest Nov 2026", []),
        ("Nov-2026 fees", []),
        ("PAYMENT 1,234.00", []),
        ("30.11.2026 INV-77", ["77"]),
        ("invoice 12345 nov 2026 1.234,00 EUR", ["12345"]),
        ("2026-0042", ["20260042", "2026", "42"]),
        ("INV-001234 INV-001235", ["1234", "1235"]),
    ],
)
def test_dates_years_and_amounts_are_not_read_as_invoice_numbers(
    reference: str, keys: list[str]
) -> None:
    assert reference_keys(reference) == keys


def test_an_amount_in_the_reference_does_not_name_an_invoice(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import(
        tmp_path,
        capsys,
        [
            Line("R1", date(2026, 11, 2), "12.34", payer="OUR BANK", remittance="FEE 1,234.00"),
            Line("R2", date(2026, 11, 2), "20.01", payer="", remittance="INTEREST Nov 2001"),
        ],
    )
    found = _match_json(capsys)
    assert found["R1"]["suggestion"] is None and found["R2"]["suggestion"] is None
