"""`arbot bank import`: camt.053, BAI2, OFX, MT940 and CSV statements built here, all or nothing,
re-imports that add nothing, and errors that name FILE:LINE or FILE:element path."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.bank_models import BankTxn
from tests.cash.statements import Line, bai2_text, camt_text, csv_text, mt940_text, ofx_text
from tests.cli_helpers import arbot
from tools.deps import ToolDeps

D = date(2026, 11, 2)
LINES = [
    Line("R1", D, "12400.00", payer="ACME Corp", remittance="INV-001234 INV-001235"),
    Line("", D, "-50.00", payer="Bank fees"),
    Line("R3", date(2026, 11, 3), "99.50", payer="Beta LLC", remittance="inv 77"),
    Line("", date(2026, 11, 3), "10.00", payer="", remittance="interest"),
]
BUILD = {"csv": csv_text, "xml": camt_text, "bai": bai2_text, "ofx": ofx_text, "sta": mt940_text}


def _rows(deps: ToolDeps) -> list[tuple[str, int, str, str]]:
    with deps.sessions() as s:
        q = select(BankTxn.external_id, BankTxn.amount_minor, BankTxn.payer_name, BankTxn.reference)
        return sorted((str(a), int(b), str(c), str(d)) for a, b, c, d in s.execute(q))


def _count(deps: ToolDeps) -> int:
    with deps.sessions() as s:
        return int(s.execute(select(func.count()).select_from(BankTxn)).scalar_one())


@pytest.mark.parametrize("ext", ["csv", "xml", "bai", "ofx", "sta"])
def test_credits_are_imported_once_and_debits_skipped(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str], ext: str
) -> None:
    path = tmp_path / f"statement.{ext}"
    path.write_text(BUILD[ext](LINES))
    run = arbot(capsys, "bank", "import", str(path))
    assert run.code == 0, run.err
    assert "3 new, 0 already known, 1 skipped (debits, reversals, pending)" in run.out
    rows = _rows(deps)
    assert {r[1] for r in rows} == {1240000, 9950, 1000}
    assert any(r[0] == "R1" and r[2] == "ACME Corp" and "INV-001234" in r[3] for r in rows)
    again = arbot(capsys, "bank", "import", str(path))
    assert again.code == 0
    assert "0 new, 3 already known" in again.out
    assert _count(deps) == 3


def test_an_overlapping_statement_adds_only_its_new_lines(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "nov1.csv", tmp_path / "nov2.csv"
    first.write_text(csv_text(LINES[:3]))
    second.write_text(csv_text([*LINES[2:], Line("R9", D, "5.00", payer="Gamma")]))
    assert arbot(capsys, "bank", "import", str(first)).code == 0
    run = arbot(capsys, "bank", "import", str(second))
    assert "2 new, 1 already known" in run.out
    assert _count(deps) == 4


def test_two_equal_lines_without_a_reference_are_two_receipts(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    same = Line("", D, "100.00", payer="Acme", remittance="")
    path = tmp_path / "twice.csv"
    path.write_text(csv_text([same, same]))
    assert "2 new" in arbot(capsys, "bank", "import", str(path)).out
    assert "0 new, 2 already known" in arbot(capsys, "bank", "import", str(path)).out


def test_a_malformed_file_refuses_every_file_with_file_and_line(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.csv"
    good.write_text(csv_text(LINES))
    bad = tmp_path / "bad.csv"
    bad.write_text(
        csv_text(LINES[:1])
        + "T2,ACC-1,2026-13-01,5.00,USD,X,\n"
        + "T3,ACC-1,2026-11-01,5.001,USD,X,\n"
        + "T4,ACC-1,2026-11-01,5.00,XXX,X,\n"
        + "R1,ACC-1,2026-11-01,5.00,USD,X,\n"
    )
    run = arbot(capsys, "bank", "import", str(good), str(bad))
    assert run.code == 2
    assert "bad.csv:3: booked_on '2026-13-01' is not a YYYY-MM-DD date" in run.err
    assert "bad.csv:4: amount '5.001' has 3 decimals; USD allows 2" in run.err
    assert "bad.csv:5: unknown currency code 'XXX'" in run.err
    assert "bad.csv:6: txn_id 'R1' repeats line 2" in run.err
    assert "nothing was written" in run.err
    assert _count(deps) == 0


def test_camt_errors_name_the_element_path(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = camt_text(LINES).replace(
        '<Amt Ccy="USD">99.50</Amt><CdtDbtInd>', '<Amt Ccy="USD">9x</Amt><CdtDbtInd>'
    )
    text = text.replace(
        "<CdtDbtInd>CRDT</CdtDbtInd>\n<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-11-02",
        "<CdtDbtInd>CRDT</CdtDbtInd>\n<Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-02-31",
        1,
    )
    path = tmp_path / "stmt.xml"
    path.write_text(text)
    run = arbot(capsys, "bank", "import", str(path))
    assert run.code == 2
    assert "stmt.xml:Stmt[1]/Ntry[3]/Amt: amount '9x' is not a number" in run.err
    assert "stmt.xml:Stmt[1]/Ntry[1]/BookgDt: '2026-02-31' is not a date" in run.err
    broken = tmp_path / "broken.xml"
    broken.write_text(camt_text(LINES).replace("</Stmt>", "</Stmnt>"))
    run = arbot(capsys, "bank", "import", str(broken))
    assert run.code == 2
    assert "broken.xml:" in run.err and "not well-formed XML" in run.err
    assert _count(deps) == 0


def test_bai2_errors_name_the_line(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = bai2_text(LINES)
    lines = text.splitlines()
    wrong_total = [ln.replace("49,", "49,9", 1) if ln.startswith("49,") else ln for ln in lines]
    path = tmp_path / "stmt.bai"
    path.write_text("\n".join(wrong_total) + "\n")
    run = arbot(capsys, "bank", "import", str(path))
    assert run.code == 2
    first_49 = next(n for n, ln in enumerate(lines, start=1) if ln.startswith("49,"))
    assert f"stmt.bai:{first_49}: BAI2: Invalid account control total" in run.err
    bad_amount = [ln.replace("16,195,1240000", "16,195,12x", 1) for ln in lines]
    path.write_text("\n".join(bad_amount) + "\n")
    run = arbot(capsys, "bank", "import", str(path))
    first_16 = next(n for n, ln in enumerate(lines, start=1) if ln.startswith("16,195,1240000"))
    assert run.code == 2
    assert f"stmt.bai:{first_16}: BAI2:" in run.err
    assert _count(deps) == 0


def test_a_file_in_no_known_format_is_refused(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    run = arbot(capsys, "bank", "import", str(path))
    assert run.code == 2
    assert "notes.txt:1: not a bank statement arbot reads" in run.err


def test_camt_batch_entries_pending_and_reversed_credits(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tx = (
        '<TxDtls><Refs><EndToEndId>E{n}</EndToEndId></Refs><Amt Ccy="EUR">{amt}</Amt>'
        "<RltdPties><Dbtr><Nm>Payer {n}</Nm></Dbtr></RltdPties>"
        "<RmtInf><Ustrd>INV-{n}</Ustrd></RmtInf></TxDtls>"
    )
    entry = (
        '<Ntry><NtryRef>{ref}</NtryRef><Amt Ccy="EUR">{amt}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        "{rvsl}<Sts>{sts}</Sts><BookgDt><Dt>2026-11-02</Dt></BookgDt>"
        "<NtryDtls>{txs}</NtryDtls></Ntry>"
    )
    batch = entry.format(
        ref="B1", amt="30.00", rvsl="", sts="BOOK",
        txs=tx.format(n=1, amt="10.00") + tx.format(n=2, amt="20.00"),
    )  # fmt: skip
    pending = entry.format(
        ref="P1", amt="5.00", rvsl="", sts="PDNG", txs=tx.format(n=3, amt="5.00")
    )
    reversed_ = entry.format(
        ref="R1", amt="7.00", rvsl="<RvslInd>true</RvslInd>", sts="BOOK",
        txs=tx.format(n=4, amt="7.00"),
    )  # fmt: skip
    xml = (
        '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
        "<BkToCstmrStmt><Stmt><Id>S</Id><Acct><Id><Othr><Id>ACC-9</Id></Othr></Id></Acct>"
        f"{batch}{pending}{reversed_}</Stmt></BkToCstmrStmt></Document>"
    )
    path = tmp_path / "batch.xml"
    path.write_text(xml)
    run = arbot(capsys, "bank", "import", str(path))
    assert run.code == 0, run.err
    assert "2 new, 0 already known, 2 skipped (debits, reversals, pending)" in run.out
    assert _rows(deps) == [
        ("S/B1/1", 1000, "Payer 1", "INV-1"),
        ("S/B1/2", 2000, "Payer 2", "INV-2"),
    ]
