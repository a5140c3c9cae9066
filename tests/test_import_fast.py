"""The import's fast row parsers and bulk staging: same rows, same errors as the full parser."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from db.ingest import BULK_MIN_ROWS
from tests.cli_helpers import arbot
from tests.ledger_files import customer, invoice, payment, write_csvs
from tools.csv_fast import as_tuple, fast_parser
from tools.csv_import import ImportErrors, import_directory
from tools.csv_rows import COLUMNS, RowError, Rows
from tools.deps import ToolDeps

# Values a person's export may hold: the plain form the fast path takes, and near misses
# (spaces, case, signs, other digits, exponents) that only the full parser may judge.
AMOUNTS = ["0", "12", "12.5", "12.50", "1.234", " 7.00", "12.", ".5", "-3", "+3", "1e3"]
AMOUNTS += ["1_000", "\u0661\u0662", "\u00b2", "1,000.00", "99999999.99", "", "0.001"]
DAYS = ["2026-01-31", "2026-02-01", " 2026-02-01", "2026-2-1", "20260201", "2026-02-30", ""]
CURRENCIES = ["USD", "usd", " USD", "JPY", "KWD", "XXX", ""]
TEXTS = ["C1", " C1 ", "", "   ", 'a "quoted", name', "line\nbreak", "back\\slash", "Zo\u00eb"]
TEXTS += ["a@b.example", "no at", "x @y", "succeeded", "failed", "Succeeded", "7", "07", "-1"]
EMAILS = ["a@b.example", "", "no at", "x @y", "a@b.example\r", "a\u2028@b.example", "a\x85@b.c"]
OWNERS = ["U0123ABCD", "W0123ABCD", "C0123ABCD", "u0123abcd", "U0123 ABCD", ""]
FIELDS = {
    "email": EMAILS,
    "ap_email": EMAILS,
    "owner_slack_id": OWNERS,
    "amount": AMOUNTS,
    "total": AMOUNTS,
    "credit_limit": AMOUNTS,
    "currency": CURRENCIES,
    "issued_on": DAYS,
    "due_on": DAYS,
    "voided_on": DAYS,
    "written_off_on": DAYS,
    "paid_on": DAYS,
}
FAST_ENTITIES = ["customers", "invoices", "payments", "credit_notes"]


def field_values(column: str) -> st.SearchStrategy[str]:
    return st.sampled_from(FIELDS.get(column, TEXTS))


@st.composite
def csv_rows(draw: st.DrawFn, entity: str) -> list[str]:
    return [draw(field_values(c)) for c in COLUMNS[entity]]


@pytest.mark.parametrize("entity", FAST_ENTITIES)
@settings(max_examples=400, deadline=None)
@given(data=st.data())
def test_fast_parser_takes_only_what_the_full_parser_takes_the_same_way(
    entity: str, data: st.DataObject
) -> None:
    rows = Rows(ZoneInfo("America/New_York"))
    header = list(reversed(COLUMNS[entity]))  # any column order
    fields = list(reversed(data.draw(csv_rows(entity))))
    fast = fast_parser(rows, entity, header)
    assert fast is not None
    got = fast(fields, 7)
    try:
        full: dict[str, Any] | None = getattr(rows, entity)(dict(zip(header, fields, strict=True)))
    except RowError:
        full = None
    if got is not None:
        assert full is not None, f"fast path took a row the full parser refuses: {fields}"
        assert got == as_tuple(entity, full | {"line": 7})


PLAIN_ROWS = {
    "customers": ["C1", "Acme", "a@b.example", "ap@b.example", "smb", "30", "USD", "100", "U0123"],
    "invoices": ["I1", "C1", "INV-1", "USD", "2620.24", "2025-06-12", "2025-07-12", "", ""],
    "payments": ["P1", "C1", "I1", "12.50", "USD", "2025-06-20", "succeeded", "card", ""],
    "credit_notes": ["N1", "I1", "12.50", "USD", "2025-06-20"],
}


@pytest.mark.parametrize("entity", FAST_ENTITIES)
def test_a_plain_row_with_any_one_field_changed_is_judged_alike(entity: str) -> None:
    """Every near miss of each field, one at a time in an otherwise plain row: where the
    random rows above are mostly refused for several reasons at once, this reaches each rule."""
    rows = Rows(ZoneInfo("UTC"))
    header = COLUMNS[entity]
    fast = fast_parser(rows, entity, header)
    assert fast is not None
    for i, column in enumerate(header):
        for value in [*FIELDS.get(column, TEXTS), *TEXTS]:
            fields = [*PLAIN_ROWS[entity][:i], value, *PLAIN_ROWS[entity][i + 1 :]]
            try:
                full = getattr(rows, entity)(dict(zip(header, fields, strict=True)))
            except RowError:
                full = None
            got = fast(fields, 2)
            if got is not None:
                assert full is not None, f"fast path took a row the full parser refuses: {fields}"
                assert got == as_tuple(entity, full | {"line": 2})


def test_plain_rows_take_the_fast_path() -> None:
    rows = Rows(ZoneInfo("UTC"))
    header = COLUMNS["invoices"]
    fast = fast_parser(rows, "invoices", header)
    assert fast is not None
    fields = ["I1", "C1", "INV-1", "USD", "2620.24", "2025-06-12", "2025-07-12", "", ""]
    assert fast(fields, 2) == as_tuple(
        "invoices", rows.invoices(dict(zip(header, fields, strict=True))) | {"line": 2}
    )


ODD_NAMES = [
    'Quote "Q" Ltd',
    "Comma, Inc",
    "Two\nLines GmbH",
    "Back\\slash \\N Co",
    "Tab\there",
    "Zo\u00eb & \u4e2d\u6587 \U0001f600",
    "\\.",
]


def test_odd_text_round_trips_through_staging(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    customers = [customer(f"C{n}", name=name) for n, name in enumerate(ODD_NAMES, 1)]
    directory = write_csvs(
        tmp_path / "odd",
        customers=customers,
        invoices=[invoice("I,1", "10.00", "2026-06-01", "2026-07-01", number='N"1\\')],
        payments=[payment("P\n1", "I,1", "10.00", "2026-06-02")],
    )

    run = arbot(capsys, "import", str(directory))

    assert run.code == 0, run.err
    with deps.engine.connect() as conn:
        names = dict(conn.execute(sa.text("SELECT external_id, name FROM customers")).all())
        inv = conn.execute(sa.text("SELECT external_id, number, settled_at FROM invoices")).one()
        pay = conn.execute(sa.text("SELECT external_id FROM payments")).scalar_one()
    assert names == {f"C{n}": name for n, name in enumerate(ODD_NAMES, 1)}
    assert inv.external_id == "I,1" and inv.number == 'N"1\\' and inv.settled_at is not None
    assert pay == "P\n1"


def test_errors_after_a_multi_line_field_name_the_right_line(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = write_csvs(
        tmp_path / "bad",
        customers=[customer("C1", name="Two\nLines"), customer("C2", currency="usd ")],
        invoices=[
            invoice("I1", "10.00", "2026-06-01", "2026-07-01", number="N\n1"),
            invoice("I2", "1.5.0", "2026-06-01", "2026-07-01"),
        ],
    )

    run = arbot(capsys, "import", str(directory))

    assert run.code == 2
    errors = run.err.splitlines()
    # "usd " is accepted (the full parser trims and upper-cases); the bad amount is refused.
    assert "invoices.csv:4: total: amount '1.5.0' is not a number" in errors
    with deps.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM customers")).scalar_one() == 0


def ledger_schema(deps: ToolDeps) -> dict[str, Any]:
    with deps.engine.connect() as conn:
        seen = sa.inspect(conn)
        return {
            t: (
                sorted((ix["name"], tuple(ix["column_names"])) for ix in seen.get_indexes(t)),
                sorted(
                    (fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"])
                    for fk in seen.get_foreign_keys(t)
                ),
            )
            for t in ("invoices", "payments", "credit_notes")
        }


def big_files(directory: Path, invoices: int, *, bad_last: bool = False) -> Path:
    """More staged rows than BULK_MIN_ROWS, so the import rebuilds indexes once."""
    rows = [invoice(f"I{n}", "10.00", "2026-06-01", "2026-07-01") for n in range(invoices)]
    pays = [payment(f"P{n}", f"I{n}", "10.00", "2026-06-05") for n in range(0, invoices, 2)]
    if bad_last:
        pays.append(payment("PX", "I0", "0.01", "2026-06-06"))  # over-applies a paid invoice
    return write_csvs(directory, customers=[customer("C1")], invoices=rows, payments=pays)


def test_a_big_first_import_leaves_every_index_and_key_as_before(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = ledger_schema(deps)
    count = BULK_MIN_ROWS

    run = arbot(capsys, "import", str(big_files(tmp_path / "big", count)))

    assert run.code == 0, run.err
    assert ledger_schema(deps) == before
    with deps.engine.connect() as conn:
        settled = conn.execute(
            sa.text("SELECT count(*) FROM invoices WHERE settled_at IS NOT NULL")
        ).scalar_one()
        applied = conn.execute(sa.text("SELECT sum(applied_minor) FROM invoices")).scalar_one()
    assert settled == count // 2
    assert applied == 1000 * (count // 2)


def test_a_big_import_with_an_error_writes_nothing_and_keeps_the_indexes(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = ledger_schema(deps)

    run = arbot(capsys, "import", str(big_files(tmp_path / "big", BULK_MIN_ROWS, bad_last=True)))

    assert run.code == 2
    assert "more than its total 10.00" in run.err
    assert f"payments.csv:{BULK_MIN_ROWS // 2 + 2}:" in run.err
    assert ledger_schema(deps) == before
    with deps.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM invoices")).scalar_one() == 0


def test_an_import_after_one_rolled_back_on_the_same_connection_still_settles(
    deps: ToolDeps, tmp_path: Path
) -> None:
    # The first import creates settlement's scratch tables, then rolls back and takes them
    # with it; the next one on the same pooled connection must not count on them.
    over = write_csvs(
        tmp_path / "over",
        customers=[customer("C1")],
        invoices=[invoice("I1", "10.00", "2026-06-01", "2026-07-01")],
        payments=[payment("P1", "I1", "10.01", "2026-06-02")],
    )
    with pytest.raises(ImportErrors):
        import_directory(deps.engine, over, tz=ZoneInfo("UTC"))
    good = write_csvs(
        tmp_path / "good",
        customers=[customer("C1")],
        invoices=[invoice("I1", "10.00", "2026-06-01", "2026-07-01")],
        payments=[payment("P1", "I1", "4.00", "2026-06-02")],
    )

    import_directory(deps.engine, good, tz=ZoneInfo("UTC"))

    with deps.engine.connect() as conn:
        applied = conn.execute(sa.text("SELECT applied_minor FROM invoices")).scalar_one()
    assert applied == 400


def test_a_new_payment_in_a_full_reimport_settles_its_unchanged_invoice(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files: dict[str, list[dict[str, object]]] = {
        "customers": [customer("C1")],
        "invoices": [invoice("I1", "10.00", "2026-06-01", "2026-07-01")],
        "payments": [payment("P1", "I1", "4.00", "2026-06-02")],
    }
    assert arbot(capsys, "import", str(write_csvs(tmp_path / "a", **files))).code == 0
    files["payments"] = [*files["payments"], payment("P2", "I1", "6.00", "2026-06-09")]

    run = arbot(capsys, "import", str(write_csvs(tmp_path / "b", **files)))

    assert run.code == 0, run.err
    assert "invoices.csv: 0 new, 0 changed, 1 unchanged" in run.out
    assert "payments.csv: 1 new, 0 changed, 1 unchanged" in run.out
    with deps.engine.connect() as conn:
        settled, applied = conn.execute(
            sa.text("SELECT settled_at, applied_minor FROM invoices")
        ).one()
    assert applied == 1000
    assert settled is not None and str(settled).startswith("2026-06-09")
