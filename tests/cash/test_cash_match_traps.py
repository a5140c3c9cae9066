"""Credits that look like a sure match and are not: a reference that is another real invoice's
number one character off, a partial payment of the payer's own invoice, bank interest,
a supplier's refund, a recognised payer, a blank payer, and a second payment of a paid
invoice. None may reach 0.9 for the wrong customer."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.cash.ledger import ledger_files
from tests.cash.statements import Line
from tests.cash.test_cash_match import _match, _one
from tests.ledger_files import invoice, payment
from tools.deps import ToolDeps

D = date(2026, 11, 2)


def _ledger(*extra: dict[str, Any], payments: list[dict[str, Any]] | None = None) -> Any:
    files = ledger_files()
    return {"invoices": files["invoices"] + list(extra), "payments": payments or []}


def _sure(out: dict[str, Any]) -> str | None:
    """The customer a suggestion names at 0.9 or above, else None."""
    s = out["suggestion"]
    return s["customer_id"] if s and s["confidence"] >= 0.9 else None


def test_a_partial_payment_naming_its_own_invoice_stays_with_the_payer(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Acme pays half of its C000218-011; Globex's only invoice of that amount is the
    # neighbouring number C000219-011: a real number, not a misspelling of Acme's.
    own = invoice("C000218-011", "1000.50", "2026-10-01", "2026-10-31", customer_id="C1")
    other = invoice("C000219-011", "500.25", "2026-10-01", "2026-10-31", customer_id="C2")
    lines = [Line("W1", D, "500.25", payer="Acme Corporation", remittance="INV-C000218-011")]
    out = _one(_match(tmp_path, capsys, lines, **_ledger(own, other)))
    assert out["suggestion"]["customer_id"] == "C1"
    assert out["suggestion"]["allocations"] == [{"invoice_id": "C000218-011", "amount": "500.25"}]


def test_a_payer_quoting_its_own_number_is_not_moved_to_the_neighbouring_number(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Globex pays part of its own INV-C000219-011 with an amount that is exactly Acme's
    # INV-C000218-011, whose number is one character off.
    acme = invoice("C000218-011", "777.77", "2026-10-01", "2026-10-31", customer_id="C1")
    globex = invoice("C000219-011", "1500.00", "2026-10-01", "2026-10-31", customer_id="C2")
    lines = [Line("W1", D, "777.77", payer="Globex Industries", remittance="INV-C000219-011 part")]
    out = _one(_match(tmp_path, capsys, lines, **_ledger(acme, globex)))
    assert out["suggestion"]["customer_id"] == "C2"
    assert out["suggestion"]["allocations"] == [{"invoice_id": "C000219-011", "amount": "777.77"}]


@pytest.mark.parametrize(
    ("payer", "reference"),
    [
        ("OUR BANK", "INTEREST NOV"),  # the bank's interest
        ("STAPLES REFUND", "REFUND VENDOR 4411"),  # a supplier's money back
        ("", ""),  # nobody named at all
        ("ACME CORPORATON", "PAYMENT"),  # a recognised payer: another customer's money
        ("Acme Corporatoin Treasury", "PAYMENT"),  # close to Acme, not Globex
    ],
)
def test_an_amount_alone_does_not_name_another_customer_for_a_credit_that_is_not_theirs(
    deps: ToolDeps,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    payer: str,
    reference: str,
) -> None:
    odd = invoice("004417", "487.13", "2026-10-01", "2026-10-31", customer_id="C2")
    lines = [Line("W1", D, "487.13", payer=payer, remittance=reference)]
    out = _one(_match(tmp_path, capsys, lines, **_ledger(odd)))
    assert _sure(out) != "C2", out


def test_a_second_payment_of_an_invoice_paid_lately_is_not_sure(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 4,417.38 was an invoice paid in October; another customer has one of that amount open.
    paid = invoice("004410", "4417.38", "2026-09-01", "2026-10-01", customer_id="C1")
    odd = invoice("004417", "4417.38", "2026-10-01", "2026-10-31", customer_id="C2")
    done = [payment("P1", "004410", "4417.38", "2026-10-20", customer_id="C1")]
    lines = [Line("W1", D, "4417.38", payer="NORTHWIND TREASURY 555", remittance="")]
    out = _one(_match(tmp_path, capsys, lines, **_ledger(paid, odd, payments=done)))
    assert _sure(out) is None, out
    assert "payer not recognised" in out["suggestion"]["reasons"]


def test_an_amount_exactly_one_of_their_invoices_beats_a_part_payment_of_the_named_one(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 1,000.00 is exactly Acme's open INV-001236, the reference names INV-001234 (8,000.00):
    # a slip in the number is likelier than a part payment landing on another invoice's cents.
    lines = [Line("W1", D, "1000.00", payer="Acme Corporation", remittance="INV-001234")]
    out = _one(_match(tmp_path, capsys, lines, **_ledger()))
    assert out["suggestion"]["allocations"] == [{"invoice_id": "001236", "amount": "1000.00"}]


def test_a_fee_short_match_that_is_exactly_a_paid_invoice_waits_for_a_person(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 980.00 is 20.00 short of Acme's open 1,000.00 (a fee?) and exactly the invoice Acme
    # paid in October (paid twice?).
    paid = invoice("004410", "980.00", "2026-09-01", "2026-10-01", customer_id="C1")
    done = [payment("P1", "004410", "980.00", "2026-10-20", customer_id="C1")]
    lines = [Line("W1", D, "980.00", payer="Acme Corporation", remittance="")]
    out = _one(_match(tmp_path, capsys, lines, **_ledger(paid, payments=done)))
    assert _sure(out) is None, out
    assert "the amount is exactly an invoice paid lately: maybe paid twice" in str(out)
