"""OFX and MT940 as banks really write them: a reference given twice, a reference reused in a
later statement, the entry date beside the value date, a reversed debit, a foreign original
currency, a timezone on DTPOSTED, the bank's own credits and credit-card statements."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from db.bank_models import BankTxn
from tests.cash.statements import Line, ofx_text
from tests.cli_helpers import arbot
from tools.bank_mt940 import read_mt940
from tools.bank_ofx import read_ofx
from tools.deps import ToolDeps

D = date(2026, 11, 2)


def _mt940(*entries: str, closing: str) -> str:
    head = [":20:S1", ":25:NL91ABNA0417164300", ":28C:1/1", ":60F:C261101EUR1000,00"]
    return "\n".join([*head, *entries, f":62F:C261202EUR{closing}"]) + "\n"


TWICE = _mt940(
    ":61:2611021102C500,00NTRFNONREF//BATCH7",
    ":86:/NAME/ACME/REMI/INV-1",
    ":61:2611021102C700,00NTRFNONREF//BATCH7",
    ":86:/NAME/GLOBEX/REMI/INV-2",
    closing="2200,00",
)


def _stored(deps: ToolDeps) -> list[tuple[date, int]]:
    with deps.sessions() as s:
        rows = s.execute(select(BankTxn.booked_on, BankTxn.amount_minor).order_by(BankTxn.id))
        return [(on, int(a)) for on, a in rows]


def test_a_bank_reference_given_twice_in_one_file_is_refused_at_its_line(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.sta"
    path.write_text(TWICE)
    run = arbot(capsys, "bank", "import", str(path))
    assert run.code == 2
    assert "s.sta:7: bank reference BATCH7 is given again (first at s.sta:5)" in run.err
    assert _stored(deps) == []


def test_a_fitid_given_twice_in_one_file_is_refused_at_its_line(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.ofx"
    path.write_text(
        ofx_text([Line("F1", D, "1100.00", payer="ACME"), Line("F1", D, "900.00", payer="GLOBEX")])
    )
    run = arbot(capsys, "bank", "import", str(path))
    assert run.code == 2
    assert "FITID F1 is given again" in run.err
    assert _stored(deps) == []


def test_a_reference_reused_in_a_later_statement_is_a_new_line_not_a_known_one(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = _mt940(
        ":61:2611021102C500,00NTRFNONREF//BATCH7", ":86:/NAME/ACME/REMI/INV-1", closing="1500,00"
    )
    later = _mt940(
        ":61:2611031103C700,00NTRFNONREF//BATCH7", ":86:/NAME/GLOBEX/REMI/INV-2", closing="1700,00"
    )
    (tmp_path / "a.sta").write_text(first)
    (tmp_path / "b.sta").write_text(later)
    assert "1 new, 0 already known" in arbot(capsys, "bank", "import", str(tmp_path / "a.sta")).out
    run = arbot(capsys, "bank", "import", str(tmp_path / "b.sta"))
    assert "1 new, 0 already known" in run.out, run.out
    # Both statements again: nothing new.
    run = arbot(capsys, "bank", "import", str(tmp_path / "a.sta"), str(tmp_path / "b.sta"))
    assert run.out.count("0 new, 1 already known") == 2, run.out
    assert _stored(deps) == [(date(2026, 11, 2), 50000), (date(2026, 11, 3), 70000)]


def test_mt940_books_on_the_entry_date_and_a_reversed_debit_is_money_in() -> None:
    text = _mt940(
        ":61:2611301202C500,00NTRFNONREF//B1",
        ":86:/NAME/ACME/REMI/INV-1",
        ":61:2612021202RD250,00NTRFNONREF//B2",
        ":86:/NAME/GLOBEX/REMI/INV-2",
        ":61:2612021202C3,17NINTNONREF//B3",
        ":86:/NAME/OUR BANK/REMI/INTEREST",
        closing="1753,17",
    )
    read = read_mt940(Path("x.sta"), text.encode())
    assert read.errors == []
    assert [(x.external_id, x.booked_on, x.amount_minor) for x in read.lines] == [
        ("B1", date(2026, 12, 2), 50000),  # value date 30 Nov, booked 2 Dec
        ("B2", date(2026, 12, 2), 25000),
    ]
    assert read.notes == ["x.sta:9: the bank's own credit (interest) skipped: no customer paid it"]


def test_ofx_origcurrency_does_not_change_the_currency_of_the_amount() -> None:
    text = ofx_text([Line("F1", D, "1100.00", payer="ACME", remittance="INV-1")])
    text = text.replace(
        "<MEMO>INV-1", "<MEMO>INV-1<ORIGCURRENCY><CURRATE>1.1<CURSYM>EUR</ORIGCURRENCY>"
    )
    read = read_ofx(Path("x.ofx"), text.encode())
    assert read.errors == []
    assert [(x.currency, x.amount_minor) for x in read.lines] == [("USD", 110000)]


def test_ofx_dtposted_keeps_its_local_day_and_bank_credits_are_skipped() -> None:
    text = ofx_text(
        [
            Line("F1", D, "1100.00", payer="ACME", remittance="INV-1"),
            Line("F2", D, "12.37", payer="OUR BANK", remittance="INTEREST"),
        ]
    )
    text = text.replace(
        "<DTPOSTED>20261102<TRNAMT>1100.00", "<DTPOSTED>20261102233000[-5:EST]<TRNAMT>1100.00"
    )
    text = text.replace(
        "<TRNTYPE>CREDIT<DTPOSTED>20261102<TRNAMT>12.37",
        "<TRNTYPE>INT<DTPOSTED>20261102<TRNAMT>12.37",
    )
    read = read_ofx(Path("x.ofx"), text.encode())
    assert read.errors == []
    assert [(x.external_id, x.booked_on) for x in read.lines] == [("F1", D)]
    assert read.notes == ["x.ofx:19: INT credit skipped: the bank's own, no customer's"]


def test_a_credit_card_statement_is_skipped_with_a_note(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = ofx_text([Line("F1", D, "1100.00", payer="ACME", remittance="INV-1")])
    text = text.replace("BANKMSGSRSV1", "CREDITCARDMSGSRSV1").replace("STMTTRNRS", "CCSTMTTRNRS")
    text = text.replace("STMTRS>", "CCSTMTRS>").replace(
        "<BANKACCTFROM><BANKID>121000248<ACCTID>12345678<ACCTTYPE>CHECKING</BANKACCTFROM>",
        "<CCACCTFROM><ACCTID>4111111111111111</CCACCTFROM>",
    )
    path = tmp_path / "card.ofx"
    path.write_text(text)
    run = arbot(capsys, "bank", "import", str(path))
    assert run.code == 0, run.err
    assert "0 new" in run.out
    assert "a credit-card statement (1 line(s)) skipped" in run.out
    assert _stored(deps) == []
