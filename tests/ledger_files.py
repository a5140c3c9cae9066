"""Write small import CSVs from Python rows, so a test's ledger reads like a table."""

from __future__ import annotations

import csv
from pathlib import Path

from tools.csv_rows import COLUMNS


def write_csvs(directory: Path, **files: list[dict[str, object]]) -> Path:
    """write_csvs(dir, invoices=[{...}], ...): missing columns are written empty."""
    directory.mkdir(parents=True, exist_ok=True)
    for entity, rows in files.items():
        with (directory / f"{entity}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(COLUMNS[entity])
            for row in rows:
                unknown = set(row) - set(COLUMNS[entity])
                assert not unknown, f"{entity}: unknown columns {unknown}"
                writer.writerow(["" if row.get(c) is None else row.get(c) for c in COLUMNS[entity]])
    return directory


def customer(cid: str = "C1", currency: str = "USD", **extra: object) -> dict[str, object]:
    return {
        "customer_id": cid,
        "name": f"Customer {cid}",
        "currency": currency,
        "ap_email": f"ap@{cid.lower()}.example.com",
    } | extra


def invoice(
    iid: str,
    total: str,
    issued_on: str,
    due_on: str,
    *,
    customer_id: str = "C1",
    currency: str = "USD",
    **extra: object,
) -> dict[str, object]:
    return {
        "invoice_id": iid,
        "customer_id": customer_id,
        "number": f"INV-{iid}",
        "currency": currency,
        "total": total,
        "issued_on": issued_on,
        "due_on": due_on,
    } | extra


def payment(
    pid: str,
    invoice_id: str | None,
    amount: str,
    paid_on: str,
    *,
    customer_id: str = "C1",
    currency: str = "USD",
    status: str = "succeeded",
    **extra: object,
) -> dict[str, object]:
    return {
        "payment_id": pid,
        "customer_id": customer_id,
        "invoice_id": invoice_id,
        "amount": amount,
        "currency": currency,
        "paid_on": paid_on,
        "status": status,
    } | extra


def credit_note(
    nid: str, invoice_id: str, amount: str, issued_on: str, *, currency: str = "USD"
) -> dict[str, object]:
    return {
        "credit_note_id": nid,
        "invoice_id": invoice_id,
        "amount": amount,
        "currency": currency,
        "issued_on": issued_on,
    }
