"""bank_txns and payer_aliases: bank statement lines to apply as cash, and learned payer names

Revision ID: 0005
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0005"
down_revision: str | None = "0003"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def _instant(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, db.types.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "bank_txns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(length=100), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("statement", sa.String(length=255), nullable=False),
        sa.Column("booked_on", sa.Date(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payer_name", sa.String(length=500), nullable=False),
        sa.Column("reference", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=True),
        _instant("decided_at"),
        sa.Column("applied_how", sa.String(length=10), nullable=True),
        _instant("imported_at", nullable=False),
        sa.Column("slack_channel", sa.String(length=50), nullable=True),
        sa.Column("slack_ts", sa.String(length=50), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_bank_txns_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bank_txns")),
        sa.UniqueConstraint(
            "account", "external_id", name=op.f("uq_bank_txns_account_external_id")
        ),
    )
    op.create_index(
        "ix_bank_txns_status_booked_on", "bank_txns", ["status", "booked_on"], unique=False
    )
    op.create_table(
        "payer_aliases",
        sa.Column("payer_key", sa.String(length=500), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("learned_from", sa.Integer(), nullable=False),
        _instant("learned_at", nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_payer_aliases_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("payer_key", name=op.f("pk_payer_aliases")),
    )


def downgrade() -> None:
    op.drop_table("payer_aliases")
    op.drop_index("ix_bank_txns_status_booked_on", table_name="bank_txns")
    op.drop_table("bank_txns")
