"""A misspelt customer name is found the same way on a ledger of thousands of customers as on
a small one: the fuzzy step's shortlist tolerates a typo at the start of a word."""

from __future__ import annotations

from pathlib import Path

import pytest

from db.customers import customer_names
from tests.ledger_files import customer, write_csvs
from tools.csv_import import import_directory
from tools.customer_lookup import LARGE_INDEX, NameIndex, match_customer
from tools.deps import ToolDeps


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Amce", "Acme Corporation"),  # two letters swapped at the start
        ("Acne Corp", "Acme Corporation"),  # a letter wrong
        ("Glboex", "Globex Industries"),
        ("Inittech", "Initech GmbH"),  # a letter doubled
    ],
)
def test_a_typo_finds_the_customer_among_more_than_a_thousand(
    deps: ToolDeps, tmp_path: Path, typed: str, meant: str
) -> None:
    many = [customer(f"F{n:05d}", name=f"Filler Trading {n:05d}") for n in range(LARGE_INDEX + 200)]
    named = [
        customer("ACME", name="Acme Corporation"),
        customer("GLOBEX", name="Globex Industries"),
        customer("INITECH", name="Initech GmbH"),
    ]
    write_csvs(tmp_path / "csv", customers=many + named, invoices=[])
    import_directory(deps.engine, tmp_path / "csv", tz=deps.settings.tz)
    with deps.sessions() as session:
        found = match_customer(session, typed)
        few = NameIndex([c for c in customer_names(session) if not c.name.startswith("Filler")])
    assert found.candidates[0].name == meant, found
    # the same answer ("found", or "did you mean?" with it) as among three customers
    assert found == few.match(typed)
