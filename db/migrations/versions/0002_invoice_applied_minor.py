"""invoices.applied_minor (payments and credits applied, all dates), and covering indexes
for credit sales and for the payments dated after a cut-off

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "invoices",
        sa.Column("applied_minor", sa.BigInteger(), nullable=False, server_default="0"),
    )
    op.execute(
        """
        UPDATE invoices SET applied_minor =
            COALESCE((SELECT SUM(p.amount_minor) FROM payments p
                       WHERE p.invoice_id = invoices.id AND p.status = 'succeeded'), 0)
          + COALESCE((SELECT SUM(c.amount_minor) FROM credit_notes c
                       WHERE c.invoice_id = invoices.id), 0)
        """
    )
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.drop_index("ix_invoices_issued_at")
        batch_op.create_index(
            "ix_invoices_issued_at",
            ["issued_at", "currency", "voided_at", "total_minor"],
            unique=False,
        )
    with op.batch_alter_table("payments") as batch_op:
        batch_op.drop_index("ix_payments_status_paid_at")
        batch_op.create_index(
            "ix_payments_status_paid_at_invoice_id",
            ["status", "paid_at", "invoice_id", "amount_minor"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("payments") as batch_op:
        batch_op.drop_index("ix_payments_status_paid_at_invoice_id")
        batch_op.create_index("ix_payments_status_paid_at", ["status", "paid_at"], unique=False)
    with op.batch_alter_table("invoices") as batch_op:
        batch_op.drop_index("ix_invoices_issued_at")
        batch_op.drop_column("applied_minor")
        batch_op.create_index("ix_invoices_issued_at", ["issued_at"], unique=False)
