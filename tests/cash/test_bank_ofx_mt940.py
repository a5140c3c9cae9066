"""`arbot bank import` of OFX and MT940 statements built here: told from the content, all or
nothing with FILE:LINE, the bank's own ids (FITID, the MT940 bank reference) as dedup keys,
and the lines matched like any other."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.bank_models import BankTxn
from tests.cash.ledger import write_ledger
from tests.cash.statements import Line, csv_text, mt940_text, ofx_text
from tests.cli_helpers import arbot
from tools.deps import ToolDeps

D = date(2026, 11, 2)
LINES = [
    Line("F1", D, "12400.00", payer="ACME CORP", remittance="INV-001234 INV-001235"),
    Line("F2", D, "-50.00", payer="Bank fees"),
    Line("F3", date(2026, 11, 3), "2500.00", payer="Globex Industries", remittance="inv 2001"),
]


def _count(deps: ToolDeps) -> int:
    with deps.sessions() as s:
        return int(s.execute(select(func.count()).select_from(BankTxn)).scalar_one())


def _line_of(text: str, start: str, nth: int = 1) -> int:
    found = [n for n, line in enumerate(text.splitlines(), start=1) if start in line]
    return found[nth - 1]


@pytest.mark.parametrize(("name", "build"), [("nov.ofx.txt", ofx_text), ("nov.sta", mt940_text)])
def test_read_by_content_matched_and_an_overlapping_statement_adds_nothing_known(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, build: object
) -> None:
    assert arbot(capsys, "import", str(write_ledger(tmp_path / "l"))).code == 0
    path = tmp_path / name
    path.write_text(build(LINES[:2], currency="USD"))  # type: ignore[operator]
    run = arbot(capsys, "bank", "import", str(path))
    assert run.code == 0, run.err
    assert "1 new, 0 already known, 1 skipped" in run.out
    later = tmp_path / f"later-{name}"
    later.write_text(build(LINES, currency="USD"))  # type: ignore[operator]
    run = arbot(capsys, "bank", "import", str(later))
    assert "1 new, 1 already known, 1 skipped" in run.out, run.out
    assert _count(deps) == 2
    out = arbot(capsys, "cash", "match", "--as-of", "2026-11-30", "--json").json()
    by_id = {t["bank_txn_id"]: t for t in out["transactions"]}
    assert by_id["F1"]["payer_name"] == "ACME CORP"
    assert by_id["F1"]["suggestion"]["customer_id"] == "C1"
    assert by_id["F3"]["suggestion"]["allocations"] == [
        {"invoice_id": "002001", "amount": "2500.00"}
    ]


def test_ofx_errors_name_the_line_and_nothing_is_written(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.csv"
    good.write_text(csv_text(LINES))
    text = ofx_text(LINES).replace("<TRNAMT>2500.00", "<TRNAMT>25OO.00")
    text = text.replace(
        "<DTPOSTED>20261102<TRNAMT>12400.00", "<DTPOSTED>2026-11-02<TRNAMT>12400.00"
    )
    bad = tmp_path / "bad.ofx"
    bad.write_text(text)
    run = arbot(capsys, "bank", "import", str(good), str(bad))
    assert run.code == 2
    assert f"bad.ofx:{_line_of(text, '<STMTTRN>', 1)}: OFX STMTTRN:" in run.err
    assert "does not conform to OFX formats" in run.err
    assert (
        f"bad.ofx:{_line_of(text, '<STMTTRN>', 3)}: OFX STMTTRN: TRNAMT is not a number" in run.err
    )
    misspelt = ofx_text(LINES).replace("BANKTRANLIST>", "BANKTRANLST>")
    bad.write_text(misspelt)
    run = arbot(capsys, "bank", "import", str(bad))
    assert (
        f"bad.ofx:{_line_of(misspelt, '<BANKTRANLST>')}: OFX: unknown element BANKTRANLST"
        in run.err
    )
    assert "nothing was written" in run.err
    assert _count(deps) == 0


def test_mt940_errors_name_the_line_and_nothing_is_written(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = mt940_text(LINES)
    bad = tmp_path / "bad.sta"
    bad.write_text(text.replace(":61:261103", ":61:261303"))
    run = arbot(capsys, "bank", "import", str(bad))
    assert run.code == 2
    assert f"bad.sta:{_line_of(text, ':61:', 3)}: MT940: month must be in 1..12" in run.err
    # a misspelt tag would drop its entry: refused, and the balances no longer add up
    bad.write_text(text.replace(":61:261102", ":6l:261102", 1))
    run = arbot(capsys, "bank", "import", str(bad))
    assert f"bad.sta:{_line_of(text, ':61:', 1)}: MT940: unknown field :6l:" in run.err
    assert f"bad.sta:{_line_of(text, ':62F:')}: MT940: closing balance" in run.err
    assert _count(deps) == 0
