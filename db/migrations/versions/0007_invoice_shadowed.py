"""invoices.shadowed: a row another source's row of the same invoice stands for; and the
dated sums of a ledger that had none (an upgrade from before 0003) filled

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from db.settlement import rebuild_all

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "invoices", sa.Column("shadowed", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    conn = op.get_bind()
    has_terms = conn.execute(sa.text("SELECT 1 FROM ar_terms LIMIT 1")).first() is not None
    has_invoices = conn.execute(sa.text("SELECT 1 FROM invoices LIMIT 1")).first() is not None
    if has_invoices and not has_terms:
        rebuild_all(conn)


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("shadowed")
