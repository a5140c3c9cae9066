"""camt.053 entries: ids that stay unique across statements, batches that must add up, and
pending entries read past even without a booking date."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from db.bank_models import BankTxn
from tests.cli_helpers import arbot
from tools.deps import ToolDeps

HEAD = '<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'


def _statement(stmt_id: str, entries: str) -> str:
    return (
        f"{HEAD}<BkToCstmrStmt><Stmt><Id>{stmt_id}</Id><Acct><Id><IBAN>DE1</IBAN></Id></Acct>"
        f"{entries}</Stmt></BkToCstmrStmt></Document>"
    )


def _entry(amount: str, day: str, refs: str = "", details: str = "", sts: str = "BOOK") -> str:
    booked = f"<BookgDt><Dt>2026-11-{day}</Dt></BookgDt>" if day else ""
    return (
        f'<Ntry>{refs}<Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        f"<Sts><Cd>{sts}</Cd></Sts>{booked}<NtryDtls>{details}</NtryDtls></Ntry>"
    )


def _tx(amount: str, payer: str) -> str:
    return (
        f'<TxDtls><Amt Ccy="EUR">{amount}</Amt><RltdPties><Dbtr><Nm>{payer}</Nm></Dbtr>'
        "</RltdPties><RmtInf><Ustrd>INV-9</Ustrd></RmtInf></TxDtls>"
    )


def _lines(deps: ToolDeps) -> list[tuple[str, int]]:
    with deps.sessions() as s:
        q = select(BankTxn.external_id, BankTxn.amount_minor).order_by(BankTxn.id)
        return [(str(e), int(a)) for e, a in s.execute(q)]


def test_an_ntryref_reused_by_the_next_statement_is_a_new_line(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a.xml", tmp_path / "b.xml"
    first.write_text(_statement("S02", _entry("100.00", "02", "<NtryRef>1</NtryRef>")))
    second.write_text(
        _statement(
            "S03",
            _entry("999.00", "03", "<NtryRef>1</NtryRef>")
            + _entry("5.00", "03", "<NtryRef>2</NtryRef><AcctSvcrRef>BANK-77</AcctSvcrRef>"),
        )
    )
    assert "1 new" in arbot(capsys, "bank", "import", str(first)).out
    assert "2 new" in arbot(capsys, "bank", "import", str(second)).out
    again = arbot(capsys, "bank", "import", str(second))
    assert "0 new, 2 already known" in again.out
    assert _lines(deps) == [("S02/1", 10000), ("S03/1", 99900), ("BANK-77", 500)]


def test_a_batch_that_does_not_add_up_is_refused_and_pending_entries_are_skipped(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pending = _entry("10.00", "", sts="PDNG")
    bad = _entry(
        "20.00", "29", "<AcctSvcrRef>R1</AcctSvcrRef>", _tx("5.00", "A") + _tx("5.00", "B")
    )
    path = tmp_path / "s.xml"
    path.write_text(_statement("S", pending + bad))
    run = arbot(capsys, "bank", "import", str(path))
    assert run.code == 2
    assert (
        "s.xml:Stmt[1]/Ntry[2]/NtryDtls: the TxDtls amounts add up to 10.00, "
        "the entry's Amt is 20.00"
    ) in run.err
    assert "Ntry[1]" not in run.err
    assert _lines(deps) == []
    good = _entry(
        "20.00", "29", "<AcctSvcrRef>R1</AcctSvcrRef>", _tx("5.00", "A") + _tx("15.00", "B")
    )
    path.write_text(_statement("S", pending + good))
    run = arbot(capsys, "bank", "import", str(path))
    assert run.code == 0, run.err
    assert _lines(deps) == [("R1/1", 500), ("R1/2", 1500)]
