"""A small ledger the cash tests share: three customers, open invoices, a EUR customer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.ledger_files import customer, invoice, write_csvs


def ledger_files() -> dict[str, list[dict[str, Any]]]:
    return {
        "customers": [
            customer("C1", name="Acme Corporation"),
            customer("C2", name="Globex Industries"),
            customer("C3", name="Initech GmbH", currency="EUR"),
        ],
        "invoices": [
            invoice("001234", "8000.00", "2026-09-01", "2026-10-01", customer_id="C1"),
            invoice("001235", "4400.00", "2026-09-15", "2026-10-15", customer_id="C1"),
            invoice("001236", "1000.00", "2026-10-01", "2026-10-31", customer_id="C1"),
            invoice("002001", "2500.00", "2026-09-01", "2026-10-01", customer_id="C2"),
            invoice("002002", "3750.00", "2026-09-20", "2026-10-20", customer_id="C2"),
            invoice("002003", "1250.00", "2026-10-05", "2026-11-04", customer_id="C2"),
            invoice(
                "003001", "900.00", "2026-09-01", "2026-10-01", customer_id="C3", currency="EUR"
            ),
        ],
        "payments": [],
        "credit_notes": [],
        "fx_rates": [],
    }


def write_ledger(directory: Path, **overrides: list[dict[str, Any]]) -> Path:
    return write_csvs(directory, **(ledger_files() | overrides))
