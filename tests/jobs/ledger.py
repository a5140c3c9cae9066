"""A small ledger at fixed dates for the job tests: Monday 2026-11-23 is "now".

- GOOD: paid history (so DSO and CEI have denominators) and one current invoice.
- RISKY (owner UOWNER001): one invoice 100+ days late and getting older: medium risk
  (45 points) until a failed payment attempt on Tuesday makes it high (55).
- DUN: invoices at each dunning situation: D1 due in 3 days (stage -3), D2 one day late
  (stage +1), D3 disputed, D4 paid, D5 promised, D6 not due for weeks.
- NODUN: a do-not-dun customer with a late invoice.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from db.models import Dispute, Payment, PromiseToPay
from db.settlement import refresh_settlement
from tests.ledger_files import customer, invoice, payment, write_csvs
from tools.csv_import import import_directory
from tools.deps import ToolDeps

MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
TODAY = MONDAY.date()
OWNER = "UOWNER001"


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def build(deps: ToolDeps, directory: Path) -> None:
    customers = [
        customer("GOOD", name="Goodpay Ltd"),
        customer("RISKY", name="Risky Inc", owner_slack_id=OWNER),
        customer("DUN", name="Dunmore AG"),
        customer("NODUN", name="Nodun plc"),
    ]
    invoices = [
        invoice("G1", "10000.00", day(-120), day(-90), customer_id="GOOD"),
        invoice("G2", "8000.00", day(-60), day(-30), customer_id="GOOD"),
        invoice("G3", "7000.00", day(-10), day(20), customer_id="GOOD"),
        invoice("R1", "5000.00", day(-140), day(-110), customer_id="RISKY"),
        invoice("D1", "100.00", day(-27), day(3), customer_id="DUN"),
        invoice("D2", "200.00", day(-31), day(-1), customer_id="DUN"),
        invoice("D3", "300.00", day(-40), day(-10), customer_id="DUN"),
        invoice("D4", "400.00", day(-40), day(-10), customer_id="DUN"),
        invoice("D5", "500.00", day(-40), day(-10), customer_id="DUN"),
        invoice("D6", "600.00", day(-5), day(25), customer_id="DUN"),
        invoice("N1", "700.00", day(-40), day(-10), customer_id="NODUN"),
    ]
    payments = [
        payment("PG1", "G1", "10000.00", day(-85), customer_id="GOOD"),
        payment("PG2", "G2", "8000.00", day(-20), customer_id="GOOD"),
        payment("PD4", "D4", "400.00", day(-3), customer_id="DUN"),
    ]
    write_csvs(directory, customers=customers, invoices=invoices, payments=payments)
    import_directory(deps.engine, directory, tz=deps.settings.tz)
    with deps.engine.begin() as conn:
        conn.execute(
            text("UPDATE customers SET do_not_dun = :t WHERE external_id = 'NODUN'"), {"t": True}
        )
    add_dispute(deps, "D3", opened_at=MONDAY - timedelta(days=5), external_id="dp-old")
    with deps.sessions() as session, session.begin():
        inv = ids(deps)
        session.add(
            PromiseToPay(
                customer_id=customer_id(deps, "DUN"),
                invoice_id=inv["INV-D5"],
                amount_minor=50000,
                currency="USD",
                promised_on=TODAY + timedelta(days=10),
                status="open",
                recorded_by="UCOLLECT1",
                created_at=MONDAY - timedelta(days=1),
            )
        )


def ids(deps: ToolDeps) -> dict[str, int]:
    with deps.engine.connect() as conn:
        return {str(n): int(i) for i, n in conn.execute(text("SELECT id, number FROM invoices"))}


def customer_id(deps: ToolDeps, external: str) -> int:
    with deps.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT id FROM customers WHERE external_id = :x"), {"x": external}
            ).scalar_one()
        )


def add_dispute(
    deps: ToolDeps,
    number: str,
    *,
    opened_at: datetime,
    external_id: str,
    evidence_due_at: datetime | None = None,
) -> int:
    iid = ids(deps)[f"INV-{number}"]
    with deps.sessions() as session, session.begin():
        cid = session.execute(
            text("SELECT customer_id FROM invoices WHERE id = :i"), {"i": iid}
        ).scalar_one()
        d = Dispute(
            source="csv",
            external_id=external_id,
            customer_id=cid,
            invoice_id=iid,
            amount_minor=10000,
            currency="USD",
            kind="chargeback",
            reason="product not received",
            opened_at=opened_at,
            evidence_due_at=evidence_due_at,
        )
        session.add(d)
        session.flush()
        return d.id


def failed_payment(deps: ToolDeps, number: str, at: datetime, external_id: str) -> None:
    iid = ids(deps)[f"INV-{number}"]
    with deps.sessions() as session, session.begin():
        cid = session.execute(
            text("SELECT customer_id FROM invoices WHERE id = :i"), {"i": iid}
        ).scalar_one()
        session.add(
            Payment(
                source="csv",
                external_id=external_id,
                customer_id=cid,
                invoice_id=iid,
                amount_minor=500000,
                currency="USD",
                paid_at=at,
                status="failed",
                failure_reason="card_declined",
            )
        )
        session.flush()
        refresh_settlement(session.connection(), [iid])


def on(d: date, hour: int = 8) -> datetime:
    return datetime(d.year, d.month, d.day, hour, tzinfo=UTC)
