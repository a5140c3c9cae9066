"""invoices.stripe_ref: the Stripe invoice id an accounting record carries; and
customer_link_keys: each customer's same-customer key, kept so a relink of a few invoices
finds the customers of one key without reading every customer's name; link_pending: the
invoices a sync wrote since links were derived

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("invoices", sa.Column("stripe_ref", sa.String(length=255), nullable=True))
    op.create_table(
        "customer_link_keys",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("k", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id"),
    )
    op.create_index("ix_customer_link_keys_k", "customer_link_keys", ["k"])
    op.create_table(
        "link_pending",
        sa.Column("invoice_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("invoice_id"),
    )


def downgrade() -> None:
    op.drop_table("link_pending")
    op.drop_index("ix_customer_link_keys_k", table_name="customer_link_keys")
    op.drop_table("customer_link_keys")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("stripe_ref")
