"""Back-dated writes change every affected date at once: a ledger is imported without some of
its rows, then those rows arrive one write at a time in random order (a payment or a failed
attempt dated in the past, a credit note, a void, a write-off through the outbox's ledger
call), and after each write the whole report at random dates equals the independent
computation over the rows written so far, on SQLite and PostgreSQL."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.cli import main
from db.engine import make_engine, session_factory, transaction
from db.invoices import mark_written_off
from db.models import Invoice
from tests.conftest import fresh_database
from tests.ledger_files import write_csvs
from tests.reference_metrics import reference_report
from tests.test_metrics_properties import BASE, _import_and_report, _report, ledgers

Write = tuple[str, dict[str, Any]]


def _split(files: dict[str, list[dict[str, Any]]], held: list[bool]) -> tuple[Any, list[Write]]:
    """(the ledger without the held-back rows and invoice endings, the held-back writes)."""
    base: dict[str, list[dict[str, Any]]] = {k: [] for k in files}
    base["customers"], base["fx_rates"] = files["customers"], files["fx_rates"]
    writes: list[Write] = []
    flags = iter(held)
    for inv in files["invoices"]:
        ending = {k: inv.get(k) for k in ("voided_on", "written_off_on") if inv.get(k)}
        if ending and next(flags, False):
            base["invoices"].append({k: v for k, v in inv.items() if k not in ending})
            writes.append(("void" if "voided_on" in ending else "write_off", inv))
        else:
            base["invoices"].append(inv)
    for entity in ("payments", "credit_notes"):
        for row in files[entity]:
            if row.get("invoice_id") and next(flags, False):
                writes.append((entity, row))
            else:
                base[entity].append(row)
    return base, writes


def _apply(url: str, directory: Path, write: Write, ledger: Any) -> None:
    """Write one held-back row the way it reaches a real ledger; `ledger` follows it."""
    kind, row = write
    if kind == "write_off":  # the outbox records an approved write-off with this call
        engine = make_engine(url)
        with transaction(session_factory(engine)) as session:
            invoice_id = session.execute(
                select(Invoice.id).where(Invoice.external_id == row["invoice_id"])
            ).scalar_one()
            day = date.fromisoformat(row["written_off_on"])
            assert mark_written_off(
                session, invoice_id, datetime.combine(day, datetime.min.time(), UTC)
            )
        engine.dispose()
        ledger["invoices"] = [
            row if i["invoice_id"] == row["invoice_id"] else i for i in ledger["invoices"]
        ]
        return
    if kind == "void":
        ledger["invoices"] = [
            row if i["invoice_id"] == row["invoice_id"] else i for i in ledger["invoices"]
        ]
        entity, rows = "invoices", [row]
    else:
        ledger[kind] = [*ledger[kind], row]
        entity, rows = kind, [row]
    assert main(["import", str(write_csvs(directory, **{entity: rows}))]) == 0


def _mismatches(
    kind: str, data: st.DataObject, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[object, ...]]:
    """Every report (write number, as-of date) that differs from a full recomputation."""
    files = data.draw(ledgers())
    rows = len(files["invoices"]) + len(files["payments"]) + len(files["credit_notes"])
    held = data.draw(st.lists(st.booleans(), min_size=rows, max_size=rows))
    base, writes = _split(files, held)
    order = data.draw(st.permutations(writes))
    days = st.integers(-5, 260).map(lambda k: BASE + timedelta(days=k))
    with tempfile.TemporaryDirectory() as tmp, fresh_database(kind, Path(tmp)) as url:
        first = data.draw(days)
        period = data.draw(st.integers(1, 120))
        ledger = {k: list(v) for k, v in base.items()}
        report = _import_and_report(
            url, write_csvs(Path(tmp) / "base", **base), first, period, monkeypatch
        )
        wrong: list[tuple[object, ...]] = []
        if report != reference_report(ledger, first, period):
            wrong.append(("base", first))
        for n, write in enumerate(order):
            _apply(url, Path(tmp) / f"w{n}", write, ledger)
            for as_of in (data.draw(days), data.draw(days)):
                if _report(as_of, period) != reference_report(ledger, as_of, period):
                    wrong.append((n, write, as_of))
        return wrong


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_backdated_writes_match_full_recomputation_sqlite(
    data: st.DataObject, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _mismatches("sqlite", data, monkeypatch) == []


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_backdated_writes_match_full_recomputation_postgresql(
    data: st.DataObject, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _mismatches("postgresql", data, monkeypatch) == []
