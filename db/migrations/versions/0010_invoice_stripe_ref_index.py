"""invoices.stripe_ref indexed (only the rows that carry one): a relink of a few Stripe
invoices finds the books' invoices naming them by an index probe, since a Stripe id links
invoices whatever either system calls the customer. Links are derived again after it runs
(tools.ledger_record.relink_if_stale), so ids that name another spelling of the customer link.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

_CARRIED = sa.text("stripe_ref IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_invoices_stripe_ref",
        "invoices",
        ["stripe_ref"],
        sqlite_where=_CARRIED,
        postgresql_where=_CARRIED,
    )


def downgrade() -> None:
    op.drop_index("ix_invoices_stripe_ref", table_name="invoices")
