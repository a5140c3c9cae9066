"""`arbot cash match --json`: every signal the matcher reads, on a ledger and statements built
here, through the command a person runs."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.cash.ledger import ledger_files, write_ledger
from tests.cash.statements import Line, csv_text
from tests.cli_helpers import arbot
from tests.ledger_files import invoice
from tools.deps import ToolDeps

D = date(2026, 11, 2)


def _match(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], lines: list[Line], **ledger: Any
) -> dict[str, Any]:
    assert arbot(capsys, "import", str(write_ledger(tmp_path / "ledger", **ledger))).code == 0
    path = tmp_path / "stmt.csv"
    path.write_text(csv_text(lines))
    assert arbot(capsys, "bank", "import", str(path)).code == 0
    run = arbot(capsys, "cash", "match", "--as-of", "2026-11-30", "--json")
    assert run.code == 0, run.err
    out: dict[str, Any] = run.json()
    return out


def _one(out: dict[str, Any]) -> dict[str, Any]:
    """The line the test imported last (earlier ones stay in the same ledger)."""
    txn: dict[str, Any] = out["transactions"][-1]
    return txn


def test_json_shape_and_two_invoice_numbers_in_one_reference(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _match(
        tmp_path,
        capsys,
        [Line("W1", D, "12400.00", payer="ACME CORP", remittance="INV-001234 inv 1235")],
    )
    assert out == {
        "as_of": "2026-11-30",
        "transactions": [
            {
                "bank_txn_id": "W1",
                "booked_on": "2026-11-02",
                "amount": "12400.00",
                "currency": "USD",
                "payer_name": "ACME CORP",
                "reference": "INV-001234 inv 1235",
                "status": "suggested",
                "suggestion": {
                    "customer_id": "C1",
                    "confidence": 0.99,
                    "allocations": [
                        {"invoice_id": "001234", "amount": "8000.00"},
                        {"invoice_id": "001235", "amount": "4400.00"},
                    ],
                    "reasons": [
                        "reference names INV-001234, INV-001235",
                        "payer name matches the customer",
                        "amount equals their open total",
                    ],
                },
            }
        ],
    }


@pytest.mark.parametrize("spelling", ["INV-002002", "inv 2002", "Invoice #2002", "2002", "INV2002"])
def test_invoice_number_spellings(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str], spelling: str
) -> None:
    out = _one(
        _match(
            tmp_path, capsys, [Line("W1", D, "3750.00", payer="", remittance=f"Payment {spelling}")]
        )
    )
    assert out["suggestion"]["customer_id"] == "C2"
    assert out["suggestion"]["allocations"] == [{"invoice_id": "002002", "amount": "3750.00"}]
    assert out["suggestion"]["confidence"] >= 0.9


def test_amount_equal_to_one_open_invoice_of_the_payer(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _one(
        _match(
            tmp_path, capsys, [Line("W1", D, "4400.00", payer="Acme Corporation", remittance="")]
        )
    )
    assert out["suggestion"]["allocations"] == [{"invoice_id": "001235", "amount": "4400.00"}]
    assert "amount equals the open amount of INV-001235" in out["suggestion"]["reasons"]
    assert out["suggestion"]["confidence"] >= 0.9


def test_amount_equal_to_a_combination_of_one_customers_invoices(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _one(_match(tmp_path, capsys, [Line("W1", D, "3750.00", payer="Globex Industries")]))
    # 3750 is invoice 002002 alone, the exact single match wins over 2500 + 1250.
    assert out["suggestion"]["allocations"] == [{"invoice_id": "002002", "amount": "3750.00"}]
    out = _one(
        _match(tmp_path / "b", capsys, [Line("W2", D, "6250.00", payer="Globex Industries")])
    )
    assert {a["invoice_id"] for a in out["suggestion"]["allocations"]} == {"002001", "002002"}
    assert (
        out["suggestion"]["reasons"][-1] == "amount equals the open total of INV-002001, INV-002002"
    )


def test_payer_alias_learned_from_an_approved_match(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        Line("W1", D, "8000.00", payer="ZX HOLDINGS TREASURY", remittance="INV-001234"),
        Line("W2", D, "1000.00", payer="ZX HOLDINGS TREASURY", remittance=""),
    ]
    before = _match(tmp_path, capsys, lines)["transactions"][1]
    assert before["status"] == "unmatched" or before["suggestion"]["confidence"] < 0.9
    assert arbot(capsys, "cash", "apply", "--txn", "W1").code == 0
    after = arbot(capsys, "cash", "match", "--as-of", "2026-11-30", "--json").json()["transactions"]
    assert after[0]["status"] == "applied"
    assert after[1]["suggestion"]["customer_id"] == "C1"
    assert after[1]["suggestion"]["allocations"] == [{"invoice_id": "001236", "amount": "1000.00"}]
    assert "payer name learned from an earlier approved match" in after[1]["suggestion"]["reasons"]


def test_short_payment_within_the_fee_tolerance_and_beyond(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _one(_match(tmp_path, capsys, [Line("W1", D, "7985.00", remittance="INV-001234")]))
    assert out["suggestion"]["allocations"] == [{"invoice_id": "001234", "amount": "7985.00"}]
    assert out["suggestion"]["reasons"][-1] == "short by USD 15.00: bank fees, left open"
    assert out["suggestion"]["confidence"] >= 0.9
    out = _one(_match(tmp_path / "b", capsys, [Line("W2", D, "5000.00", remittance="INV-001234")]))
    assert out["suggestion"]["reasons"][-1] == "partial payment: USD 3,000.00 stays open"
    assert out["suggestion"]["confidence"] < 0.9


def test_overpayment_leaves_the_rest_unapplied(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _one(
        _match(
            tmp_path,
            capsys,
            [Line("W1", D, "1100.00", payer="Acme Corporation", remittance="INV-001236")],
        )
    )
    assert out["suggestion"]["allocations"] == [{"invoice_id": "001236", "amount": "1000.00"}]
    assert out["suggestion"]["reasons"][-1] == "overpaid by USD 100.00: stays unapplied cash"


def test_another_currency_is_converted_only_at_a_stored_rate(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    usd_for_eur = [
        Line("W1", D, "990.00", currency="USD", payer="Initech", remittance="INV-003001")
    ]
    out = _one(_match(tmp_path, capsys, usd_for_eur))
    assert out["suggestion"]["allocations"] == []
    assert "no exchange rate" in out["suggestion"]["reasons"][-1]
    assert arbot(capsys, "cash", "apply", "--txn", "W1").code == 2
    rates = [{"date": "2026-10-01", "currency": "EUR", "rate": "1.1"}]
    out = _one(_match(tmp_path / "b", capsys, usd_for_eur, fx_rates=rates))
    assert out["suggestion"]["allocations"] == [{"invoice_id": "003001", "amount": "900.00"}]
    assert "USD 990.00 converted at 0.9090909" in out["suggestion"]["reasons"][1]
    assert out["suggestion"]["confidence"] <= 0.9


def test_an_unrelated_credit_is_unmatched(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _one(
        _match(tmp_path, capsys, [Line("W1", D, "3.17", payer="", remittance="INTEREST NOV")])
    )
    assert out["status"] == "unmatched"
    assert out["suggestion"] is None


def _with(*extra: dict[str, Any]) -> dict[str, Any]:
    files = ledger_files()
    return {"invoices": files["invoices"] + list(extra)}


def test_an_unknown_payer_paying_a_rare_exact_amount_is_sure_and_a_look_alike_is_not(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = invoice("004417", "4417.38", "2026-10-01", "2026-10-31", customer_id="C2")
    treasury = [Line("W1", D, "4417.38", payer="NORTHWIND TREASURY 555", remittance="")]
    out = _one(_match(tmp_path, capsys, treasury, **_with(odd)))
    assert out["suggestion"]["customer_id"] == "C2"
    assert out["suggestion"]["allocations"] == [{"invoice_id": "004417", "amount": "4417.38"}]
    assert out["suggestion"]["confidence"] >= 0.9
    # Another firm sharing the customer's word is held below a sure match.
    other = [Line("W2", D, "4417.38", payer="GLOBEX PLUMBING SERVICES", remittance="")]
    out = _one(_match(tmp_path / "b", capsys, other, **_with(odd)))
    assert out["suggestion"]["confidence"] < 0.9
    # A round amount is what stray credits look like: not sure either.
    round_ = [Line("W3", D, "1000.00", payer="NORTHWIND TREASURY 555", remittance="")]
    out = _one(_match(tmp_path / "c", capsys, round_))
    assert out["status"] == "unmatched" or out["suggestion"]["confidence"] < 0.9


def test_a_misspelt_invoice_number_with_its_exact_amount(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    long = invoice("C000218-010", "405.71", "2026-10-01", "2026-10-31", customer_id="C2")
    lines = [Line("W1", D, "405.71", payer="", remittance="INV-C000218-100")]
    out = _one(_match(tmp_path, capsys, lines, **_with(long)))
    assert out["suggestion"]["allocations"] == [{"invoice_id": "C000218-010", "amount": "405.71"}]
    assert "reference is its number misspelt" in out["suggestion"]["reasons"]
    # A one-character slip can also be another real number: without a payer naming the
    # customer a person looks first; with it, sure.
    assert out["suggestion"]["confidence"] < 0.9
    named = [Line("W2", D, "405.71", payer="Globex Industries", remittance="INV-C000218-100")]
    out = _one(_match(tmp_path / "b", capsys, named, **_with(long)))
    assert out["suggestion"]["allocations"] == [{"invoice_id": "C000218-010", "amount": "405.71"}]
    assert out["suggestion"]["confidence"] >= 0.9
