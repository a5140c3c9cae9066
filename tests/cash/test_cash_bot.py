"""The bot's words for cash application, asked the way a person asks (`arbot ask`, the same
fast path as Slack): "unapplied cash" lists the receipts waiting with their best suggestion,
"match the 12,400 wire from Acme" finds that receipt."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.cash.ledger import write_ledger
from tests.cash.statements import Line, csv_text
from tests.cli_helpers import arbot
from tools.deps import ToolDeps

D = date(2026, 11, 2)
LINES = [
    Line("W1", D, "12400.00", payer="ACME CORP", remittance="INV-001234 INV-001235"),
    Line("W2", D, "3.17", payer="", remittance="INTEREST"),
    Line("W3", D, "12400.00", payer="Globex Industries", remittance=""),
]


@pytest.fixture
def statement(deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert arbot(capsys, "import", str(write_ledger(tmp_path / "l"))).code == 0
    path = tmp_path / "stmt.csv"
    path.write_text(csv_text(LINES))
    assert arbot(capsys, "bank", "import", str(path)).code == 0


def test_unapplied_cash_lists_receipts_with_their_best_suggestion(
    statement: None, capsys: pytest.CaptureFixture[str]
) -> None:
    run = arbot(capsys, "ask", "unapplied cash")
    assert run.code == 0, run.err
    assert "3 bank receipt(s) not applied yet, with the best suggestion:" in run.out
    assert (
        "USD 12,400.00 from ACME CORP on 2026-11-02 (ref INV-001234 INV-001235): best suggestion "
        "Acme Corporation INV-001234 USD 8,000.00, INV-001235 USD 4,400.00 (confidence 0.99)"
    ) in run.out
    assert "USD 3.17 from unknown payer on 2026-11-02 (ref INTEREST): no suggestion" in run.out


def test_match_the_wire_from_acme_finds_that_receipt(
    statement: None, capsys: pytest.CaptureFixture[str]
) -> None:
    run = arbot(capsys, "ask", "match the 12,400 wire from Acme")
    assert run.code == 0, run.err
    assert "Bank receipts matching 12,400 from acme" in run.out
    assert "1 receipt(s) waiting." in run.out
    assert "from ACME CORP" in run.out and "Globex" not in run.out
    none = arbot(capsys, "ask", "match the 999 wire from Acme")
    assert "No bank receipt waiting to be applied matches 999 from acme." in none.out


def test_a_line_left_unapplied_is_still_listed_as_unapplied_cash(
    statement: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert arbot(capsys, "cash", "apply", "--txn", "W2", "--leave").code == 0
    run = arbot(capsys, "ask", "unapplied cash")
    assert "3 bank receipt(s) not applied yet, with the best suggestion:" in run.out
    assert (
        "USD 3.17 from unknown payer on 2026-11-02 (ref INTEREST): left unapplied by a person"
    ) in run.out


@pytest.mark.parametrize("amount", ["12.4k", "12.4K", "$12,400.00", "12400 usd", "12,400.00"])
def test_the_wire_is_found_however_its_amount_is_typed(
    statement: None, capsys: pytest.CaptureFixture[str], amount: str
) -> None:
    run = arbot(capsys, "ask", f"match the {amount} wire from Acme")
    assert run.code == 0, run.err
    assert "1 receipt(s) waiting." in run.out, run.out
    assert "from ACME CORP" in run.out


def test_an_amount_in_another_currency_or_unreadable_is_not_dropped(
    statement: None, capsys: pytest.CaptureFixture[str]
) -> None:
    euros = arbot(capsys, "ask", "match the EUR 12.400,00 wire from Acme")
    assert "No bank receipt waiting to be applied matches EUR 12,400 from acme." in euros.out
    for typed in ("€12.400,00", "€12,400"):
        sign = arbot(capsys, "ask", f"match the {typed} wire from Acme")
        assert "No bank receipt waiting to be applied matches EUR 12,400 from acme." in sign.out
    pounds = arbot(capsys, "ask", "match the £12,400 wire from Acme")
    assert "matches GBP 12,400 from acme" in pounds.out, pounds.out
    unsure = arbot(capsys, "ask", "match the 12.400 wire from Acme")
    assert "'12.400' could be 12.4 or 12400" in unsure.out, unsure.out
    assert "receipt(s) waiting" not in unsure.out
