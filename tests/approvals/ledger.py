"""A small ledger for approval tests, dated relative to today so "overdue" stays overdue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from db.models import Dispute, Invoice, Payment
from db.settlement import refresh_settlement
from tests.ledger_files import customer, invoice, write_csvs
from tools.csv_import import import_directory
from tools.deps import ToolDeps

ACME_AP = "ap@acme.example.com"
GLOBEX_BILLING = "billing@globex.example.com"


def day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


def build(deps: ToolDeps, directory: Path) -> None:
    """Acme: two overdue invoices and one not yet due; Globex: a big 90+ invoice; Initech:
    do-not-dun; plenty of paid history so DSO and bad debt have a denominator."""
    customers = [
        customer("ACME", name="Acme Corp", ap_email=ACME_AP, email="sales@acme.example.com"),
        customer("GLOBEX", name="Globex", ap_email=None, email=GLOBEX_BILLING),
        customer("INITECH", name="Initech", ap_email="ap@initech.example.com"),
    ]
    invoices = [
        invoice("A1", "1200.00", day(-50), day(-20), customer_id="ACME"),
        invoice("A2", "800.50", day(-70), day(-40), customer_id="ACME"),
        invoice("A3", "300.00", day(-5), day(25), customer_id="ACME"),
        invoice("G1", "9000.00", day(-150), day(-120), customer_id="GLOBEX"),
        invoice("I1", "450.00", day(-40), day(-10), customer_id="INITECH"),
    ]
    write_csvs(directory, customers=customers, invoices=invoices)
    import_directory(deps.engine, directory, tz=deps.settings.tz)
    with deps.engine.begin() as conn:
        conn.execute(
            text("UPDATE customers SET do_not_dun = :t WHERE external_id = 'INITECH'"), {"t": True}
        )


def invoice_id(deps: ToolDeps, number: str) -> int:
    with deps.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT id FROM invoices WHERE number = :n"), {"n": number}
            ).scalar_one()
        )


def pay_in_full(deps: ToolDeps, number: str) -> None:
    """A payment arrives for the whole open amount (what a sync or import would write)."""
    iid = invoice_id(deps, number)
    with deps.sessions() as session, session.begin():
        inv = session.get(Invoice, iid)
        assert inv is not None
        session.add(
            Payment(
                source="csv",
                external_id=f"pay-{number}",
                customer_id=inv.customer_id,
                invoice_id=iid,
                amount_minor=inv.total_minor,
                currency=inv.currency,
                paid_at=datetime.now(UTC),
                status="succeeded",
            )
        )
        session.flush()
        refresh_settlement(session.connection(), [iid])


def open_dispute(deps: ToolDeps, number: str) -> None:
    iid = invoice_id(deps, number)
    with deps.sessions() as session, session.begin():
        inv = session.get(Invoice, iid)
        assert inv is not None
        session.add(
            Dispute(
                source="csv",
                external_id=f"dp-{number}",
                customer_id=inv.customer_id,
                invoice_id=iid,
                amount_minor=inv.total_minor,
                currency=inv.currency,
                kind="billing",
                reason="wrong number of seats",
                opened_at=datetime.now(UTC),
            )
        )


def make_stripe_invoice(deps: ToolDeps, number: str, stripe_id: str) -> None:
    with deps.engine.begin() as conn:
        conn.execute(
            text("UPDATE invoices SET source = 'stripe', external_id = :x WHERE number = :n"),
            {"x": stripe_id, "n": number},
        )
