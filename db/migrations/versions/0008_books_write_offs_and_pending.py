"""books_write_offs, books_pending: which document wrote an invoice off; objects waiting for
their parent

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import db.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "books_write_offs",
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("invoice_ext", sa.String(length=255), nullable=False),
        sa.Column("cause", sa.String(length=512), nullable=False),
        sa.PrimaryKeyConstraint("source", "invoice_ext", name=op.f("pk_books_write_offs")),
    )
    op.create_index(op.f("ix_books_write_offs_cause"), "books_write_offs", ["cause"], unique=False)
    op.create_table(
        "books_pending",
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("first_seen_at", db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", "entity", "object_id", name=op.f("pk_books_pending")),
    )


def downgrade() -> None:
    op.drop_table("books_pending")
    op.drop_index(op.f("ix_books_write_offs_cause"), table_name="books_write_offs")
    op.drop_table("books_write_offs")
