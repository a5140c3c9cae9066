"""The Alembic revisions build exactly the schema db.models declares, and 0002 fills
invoices.applied_minor for a ledger imported before it existed."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import db.bank_models  # noqa: F401  (its tables are part of the schema)
from db.engine import alembic_config, make_engine, upgrade
from db.models import Base, Invoice


def test_migrations_match_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_0002_backfills_applied_amounts(db_url: str) -> None:
    engine = make_engine(db_url)
    command.upgrade(alembic_config(engine), "0001")
    at = "2026-03-10 00:00:00"
    with engine.begin() as conn:
        for sql in (
            "INSERT INTO customers (id, source, external_id, name, currency, do_not_dun)"
            " VALUES (1, 'csv', 'C1', 'Acme', 'USD', false)",
            "INSERT INTO invoices (id, source, external_id, customer_id, currency, total_minor,"
            f" issued_at, due_on) VALUES (1, 'csv', 'A', 1, 'USD', 10000, '{at}', '2026-03-31')",
            "INSERT INTO payments (id, source, external_id, customer_id, invoice_id, amount_minor,"
            f" currency, paid_at, status) VALUES (1, 'csv', 'P1', 1, 1, 3000, 'USD', '{at}',"
            f" 'succeeded'), (2, 'csv', 'P2', 1, 1, 5000, 'USD', '{at}', 'failed')",
            "INSERT INTO credit_notes (id, source, external_id, invoice_id, amount_minor, currency,"
            f" issued_at) VALUES (1, 'csv', 'CN1', 1, 1000, 'USD', '{at}')",
        ):
            conn.execute(sa.text(sql))
    upgrade(engine)
    with engine.connect() as conn:
        applied = conn.execute(sa.select(Invoice.applied_minor)).scalar_one()
    engine.dispose()
    assert applied == 4000  # the succeeded payment and the credit note, not the failed one


def test_head_revision_is_alembics() -> None:
    """Start-up skips Alembic when the schema is current; it must agree on which is newest."""
    from alembic.script import ScriptDirectory

    from db.engine import head_revision

    config = alembic_config(make_engine("sqlite://"))
    assert head_revision() == ScriptDirectory.from_config(config).get_current_head()
