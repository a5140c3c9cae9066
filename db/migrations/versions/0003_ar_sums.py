"""ar_terms and ar_sums: AR, credit sales and dunning attempts as dated sums kept by every
write, and the ledger version; filled from the ledger already there

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def _instants(*names: str) -> list[sa.Column[object]]:
    return [sa.Column(n, db.types.UTCDateTime(timezone=True), nullable=False) for n in names]


def upgrade() -> None:
    op.create_table(
        "ar_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("key_on", sa.Date(), nullable=False),
        *_instants("since_at", "at", "until_at"),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ar_terms")),
    )
    op.create_index(op.f("ix_ar_terms_invoice_id"), "ar_terms", ["invoice_id"], unique=False)
    op.create_table(
        "ar_sums",
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("key_on", sa.Date(), nullable=False),
        *_instants("at", "since_at", "until_at"),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "kind", "currency", "key_on", "at", "since_at", "until_at", name=op.f("pk_ar_sums")
        ),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_ar_sums_kind_at", "ar_sums", ["kind", "at"], unique=False)
    # The sums are filled by 0007: the code that derives them reads columns added up to there.


def downgrade() -> None:
    op.drop_index("ix_ar_sums_kind_at", table_name="ar_sums")
    op.drop_table("ar_sums")
    op.drop_index(op.f("ix_ar_terms_invoice_id"), table_name="ar_terms")
    op.drop_table("ar_terms")
