"""`arbot import`: every bad input is refused with FILE:LINE and leaves the ledger as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.cli_helpers import arbot
from tests.ledger_files import credit_note, customer, invoice, payment, write_csvs
from tools.deps import ToolDeps

TABLES = ("customers", "invoices", "payments", "credit_notes", "disputes", "fx_rates")


def snapshot(deps: ToolDeps) -> dict[str, list[tuple[object, ...]]]:
    with deps.engine.connect() as conn:
        return {
            t: [tuple(r) for r in conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY id"))]
            for t in TABLES
        }


@pytest.fixture
def baseline(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> dict[str, list[tuple[object, ...]]]:
    directory = write_csvs(
        tmp_path / "base",
        customers=[customer("C1"), customer("C2", "EUR")],
        invoices=[
            invoice("I1", "100.00", "2026-06-01", "2026-07-01"),
            invoice("I2", "50.00", "2026-06-01", "2026-07-01", customer_id="C2", currency="EUR"),
        ],
        payments=[payment("P1", "I1", "40.00", "2026-06-10")],
    )
    run = arbot(capsys, "import", str(directory))
    assert run.code == 0, run.err
    return snapshot(deps)


def refused(capsys: pytest.CaptureFixture[str], directory: Path) -> list[str]:
    run = arbot(capsys, "import", str(directory))
    assert run.code == 2
    assert "nothing was written" in run.err
    return run.err.splitlines()


# A good change rides along with every bad row: it must not be applied either.
GOOD_CUSTOMERS = [customer("C1", name="Renamed Ltd"), customer("C2", "EUR"), customer("C3")]


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        pytest.param(
            {"invoices": [invoice("I3", "1,000.00", "2026-06-01", "2026-07-01")]},
            "invoices.csv:2: total: amount '1,000.00' is not a number",
            id="unparseable-amount",
        ),
        pytest.param(
            {"invoices": [invoice("I3", "-5.00", "2026-06-01", "2026-07-01")]},
            "invoices.csv:2: total: amount '-5.00' is negative",
            id="negative-amount",
        ),
        pytest.param(
            {"invoices": [invoice("I3", "1.234", "2026-06-01", "2026-07-01")]},
            "invoices.csv:2: total: amount '1.234' has 3 decimals; USD allows 2",
            id="usd-decimals",
        ),
        pytest.param(
            {
                "customers": [*GOOD_CUSTOMERS, customer("CJ", "JPY")],
                "invoices": [
                    invoice(
                        "I3", "100.5", "2026-06-01", "2026-07-01", customer_id="CJ", currency="JPY"
                    )
                ],
            },
            "invoices.csv:2: total: amount '100.5' has 1 decimals; JPY allows 0",
            id="jpy-decimals",
        ),
        pytest.param(
            {
                "customers": [*GOOD_CUSTOMERS, customer("CK", "KWD")],
                "invoices": [
                    invoice(
                        "I3", "1.2345", "2026-06-01", "2026-07-01", customer_id="CK", currency="KWD"
                    )
                ],
            },
            "invoices.csv:2: total: amount '1.2345' has 4 decimals; KWD allows 3",
            id="kwd-decimals",
        ),
        pytest.param(
            {"invoices": [invoice("I3", "1.00", "2026-06-01", "2026-07-01", currency="XYZ")]},
            "invoices.csv:2: currency: unknown currency code 'XYZ'",
            id="unknown-currency",
        ),
        pytest.param(
            {"invoices": [invoice("I3", "1.00", "2026-06-31", "2026-07-01")]},
            "invoices.csv:2: issued_on: '2026-06-31' is not a date (use YYYY-MM-DD)",
            id="bad-date",
        ),
        pytest.param(
            {"invoices": [invoice("I3", "1.00", "01/06/2026", "2026-07-01")]},
            "invoices.csv:2: issued_on: '01/06/2026' is not a date (use YYYY-MM-DD)",
            id="foreign-date-format",
        ),
        pytest.param(
            {"invoices": [invoice("I3", "1.00", "2026-06-10", "2026-06-01")]},
            "invoices.csv:2: due_on 2026-06-01 is before issued_on 2026-06-10",
            id="due-before-issue",
        ),
        pytest.param(
            {"invoices": [invoice("I3", "1.00", "2026-06-01", "2026-07-01", customer_id="NOPE")]},
            "invoices.csv:2: unknown customer NOPE",
            id="unknown-customer",
        ),
        pytest.param(
            {"payments": [payment("P9", "NOPE", "1.00", "2026-06-10")]},
            "payments.csv:2: unknown invoice NOPE",
            id="unknown-invoice",
        ),
        pytest.param(
            {"payments": [payment("P9", "I1", "1.00", "2026-06-10", currency="EUR")]},
            "payments.csv:2: currency EUR differs from invoice I1 in USD",
            id="payment-currency-mismatch",
        ),
        pytest.param(
            {"credit_notes": [credit_note("N1", "I1", "1.00", "2026-06-10", currency="EUR")]},
            "credit_notes.csv:2: currency EUR differs from invoice I1 in USD",
            id="credit-currency-mismatch",
        ),
        pytest.param(
            {
                "invoices": [
                    invoice("I3", "1.00", "2026-06-01", "2026-07-01"),
                    invoice("I4", "1.00", "2026-06-01", "2026-07-01"),
                    invoice("I3", "2.00", "2026-06-01", "2026-07-01"),
                ]
            },
            "invoices.csv:4: duplicate id 'I3' (first on line 2)",
            id="duplicate-id",
        ),
        pytest.param(
            {"payments": [payment("P9", "I1", "60.01", "2026-06-10")]},
            "payments.csv:2: payments and credit notes on invoice I1 add up to 100.01, "
            "more than its total 100.00",
            id="over-applied",
        ),
        pytest.param(
            {
                "customers": [
                    customer("C1", name="Renamed Ltd", owner_slack_id="U0123ABCD"),
                    customer("C2", "EUR", owner_slack_id="W0123ABCD"),
                    customer("C3", owner_slack_id="C0123ABCD"),
                ]
            },
            "customers.csv:4: owner_slack_id: 'C0123ABCD' is a channel or conversation id, "
            "not a user id (U... or W...)",
            id="owner-is-a-channel",
        ),
        *[
            pytest.param(
                {
                    "customers": [
                        *GOOD_CUSTOMERS[:2],
                        customer("C3", ap_email=f"ap@c3.example.com{char}Bcc: x@evil.example.com"),
                    ]
                },
                "customers.csv:4: ap_email: the address holds a line break or control character "
                f"(U+{ord(char):04X})",
                id=f"ap-email-with-{name}",
            )
            for char, name in (("\r", "CR"), ("\u2028", "line-separator"))
        ],
    ],
)
def test_bad_row_is_refused_and_nothing_written(
    deps: ToolDeps,
    baseline: dict[str, list[tuple[object, ...]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, list[dict[str, object]]],
    expected: str,
) -> None:
    files = {"customers": GOOD_CUSTOMERS} | files
    directory = write_csvs(tmp_path / "bad", **files)

    errors = refused(capsys, directory)

    assert expected in errors
    assert snapshot(deps) == baseline


def test_missing_column(
    deps: ToolDeps,
    baseline: dict[str, list[tuple[object, ...]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    directory = tmp_path / "bad"
    write_csvs(directory, customers=GOOD_CUSTOMERS)
    (directory / "invoices.csv").write_text(
        "invoice_id,customer_id,currency,total,issued_on,due_on\nI3,C1,USD,1.00,2026-06-01,2026-07-01\n"
    )

    errors = refused(capsys, directory)

    assert errors[0].startswith("invoices.csv:1: missing column number, voided_on, written_off_on")
    assert snapshot(deps) == baseline


def test_file_not_utf8(
    deps: ToolDeps,
    baseline: dict[str, list[tuple[object, ...]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    directory = tmp_path / "bad"
    write_csvs(directory, customers=GOOD_CUSTOMERS)
    text = (directory / "customers.csv").read_text()
    (directory / "customers.csv").write_bytes(
        text.encode() + "C4,Caf\u00e9 M\u00fcller,,,,,USD,,\n".encode("latin-1")
    )

    errors = refused(capsys, directory)

    assert "customers.csv:5: not UTF-8 (byte 0xe9 at column 7)" in errors
    assert snapshot(deps) == baseline


def test_at_most_fifty_errors_then_a_count(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [invoice(f"I{n}", "-1", "2026-06-01", "2026-07-01") for n in range(60)]
    directory = write_csvs(tmp_path / "bad", customers=[customer()], invoices=rows)

    errors = refused(capsys, directory)

    assert len([e for e in errors if e.startswith("invoices.csv:")]) == 50
    assert errors[0] == "invoices.csv:2: total: amount '-1' is negative"
    assert "... and 10 more errors" in errors
    assert "import refused: 60 errors, nothing was written" in errors
    assert snapshot(deps)["invoices"] == []


def test_reimport_is_idempotent_and_changes_are_upserted(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {
        "customers": [customer("C1")],
        "invoices": [
            invoice("I1", "100.00", "2026-06-01", "2026-07-01"),
            invoice("I2", "200.00", "2026-06-01", "2026-07-01"),
        ],
        "payments": [payment("P1", "I1", "100.00", "2026-06-10")],
    }
    first = arbot(capsys, "import", str(write_csvs(tmp_path / "a", **files)))
    assert first.code == 0
    assert "invoices.csv: 2 new, 0 changed, 0 unchanged" in first.out
    before = snapshot(deps)

    again = arbot(capsys, "import", str(write_csvs(tmp_path / "b", **files)))
    assert "invoices.csv: 0 new, 0 changed, 2 unchanged" in again.out
    assert "payments.csv: 0 new, 0 changed, 1 unchanged" in again.out
    assert snapshot(deps) == before
    assert arbot(capsys, "report", "--as-of", "2026-06-30", "--json").json()["ar_total"] == "200.00"

    files["invoices"][1] = invoice("I2", "250.00", "2026-06-01", "2026-07-01")
    changed = arbot(capsys, "import", str(write_csvs(tmp_path / "c", **files)))
    assert "invoices.csv: 0 new, 1 changed, 1 unchanged" in changed.out
    assert arbot(capsys, "report", "--as-of", "2026-06-30", "--json").json()["ar_total"] == "250.00"


def test_a_payment_added_later_settles_the_invoice(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = {
        "customers": [customer("C1")],
        "invoices": [invoice("I1", "100.00", "2026-06-01", "2026-07-01")],
    }
    assert arbot(capsys, "import", str(write_csvs(tmp_path / "a", **base))).code == 0
    later = write_csvs(tmp_path / "b", payments=[payment("P1", "I1", "100.00", "2026-06-20")])
    assert arbot(capsys, "import", str(later)).code == 0

    assert arbot(capsys, "report", "--as-of", "2026-06-19", "--json").json()["ar_total"] == "100.00"
    assert arbot(capsys, "report", "--as-of", "2026-06-20", "--json").json()["ar_total"] == "0.00"


def test_empty_directory_is_refused(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    run = arbot(capsys, "import", str(tmp_path / "empty"))
    assert run.code == 2
    assert "no import files found" in run.err
