"""The rows behind a number, as CSV: what "Show invoices" uploads to the thread.

Amounts are plain decimals in each row's own currency (the report's JSON form), so the rows
of one currency add up exactly to that currency's share of the figure shown.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.blocks.ids import RowsRequest
from tools.cash import UnappliedCashInput, unapplied_cash
from tools.csv_export import Cell, csv_bytes
from tools.customers import OpenInvoicesInput, open_invoice_lines
from tools.deps import ToolDeps
from tools.disputes import OpenDisputesInput, open_disputes
from tools.ledger_record import source_line
from tools.money import format_major
from tools.reconcile import ReconcileInput, reconcile

INVOICE_COLUMNS = [
    "customer", "invoice_number", "invoice_id", "currency", "total", "open_amount",
    "issued_on", "due_on", "days_past_due", "bucket", "source",
]  # fmt: skip


def rows_csv(deps: ToolDeps, req: RowsRequest) -> tuple[str, bytes, int]:
    """(file name, CSV bytes, row count) for the request."""
    rows: list[Sequence[Cell]] = []
    count = 0
    if req.kind in ("open_invoices", "customer_invoices", "overdue_invoices"):
        lines = open_invoice_lines(
            deps,
            OpenInvoicesInput(
                as_of=req.as_of,
                customer_id=req.customer_id if req.kind == "customer_invoices" else None,
                more_than_days=(req.more_than_days if req.kind == "overdue_invoices" else None),
            ),
        )
        rows.append(INVOICE_COLUMNS)
        with deps.engine.connect() as conn:
            source = source_line(conn)
        for inv in lines:
            rows.append([
                inv.customer_name, inv.number or "", inv.external_id, inv.currency,
                format_major(inv.total_minor, inv.currency),
                format_major(inv.open_minor, inv.currency),
                inv.issued_on.isoformat(), inv.due_on.isoformat(), inv.days_past_due, inv.bucket,
                source,
            ])  # fmt: skip
        count = len(lines)
        name = f"{req.kind.replace('_', '-')}-{req.as_of}.csv"
    elif req.kind == "reconcile":
        compared = reconcile(deps, ReconcileInput(as_of=req.as_of, sources=req.sources))
        rows.extend(compared.csv_rows())
        count = len(compared.differences)
        name = f"reconciliation-{req.as_of}.csv"
    elif req.kind == "disputes":
        disputes = open_disputes(deps, OpenDisputesInput(as_of=req.as_of))
        rows.append(
            ["customer", "dispute_id", "invoice_number", "kind", "currency", "amount",
             "opened_on", "age_days", "reason"]
        )  # fmt: skip
        for d in disputes.disputes:
            rows.append([
                d.customer_name, d.external_id, d.invoice_number or "", d.kind, d.currency,
                format_major(d.amount_minor, d.currency), d.opened_at.date().isoformat(),
                d.age_days, d.reason or "",
            ])  # fmt: skip
        count = disputes.count
        name = f"open-disputes-{req.as_of}.csv"
    else:
        cash = unapplied_cash(deps, UnappliedCashInput(as_of=req.as_of))
        rows.append(["customer", "payment_id", "currency", "amount", "paid_on", "method"])
        for p in cash.payments:
            rows.append([
                p.customer_name, p.external_id, p.currency,
                format_major(p.amount_minor, p.currency),
                p.paid_at.date().isoformat(), p.method or "",
            ])  # fmt: skip
        count = cash.count
        name = f"unapplied-cash-{req.as_of}.csv"
    return name, csv_bytes(rows), count
