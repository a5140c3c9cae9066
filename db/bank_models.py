"""Bank statement lines and the payer names learned from them.

A bank line is a credit the bank reported; it becomes applied cash only when a person (or a
rule a person set) applies it, which writes ordinary payment rows. `status` moves once, from
`unapplied` to `applied` or `left`, by a conditional update, so a line is applied once.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, utcnow


class BankTxnStatus:
    UNAPPLIED = "unapplied"
    APPLIED = "applied"
    LEFT = "left"  # a person chose to leave it unapplied (not a customer receipt, say)


class BankTxn(Base):
    __tablename__ = "bank_txns"
    # The bank's entry reference (else a stable hash) is unique per account: re-importing a
    # statement, or one that overlaps it, finds the lines it already has.
    __table_args__ = (
        UniqueConstraint("account", "external_id"),
        Index("ix_bank_txns_status_booked_on", "status", "booked_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(255))
    statement: Mapped[str] = mapped_column(String(255))
    booked_on: Mapped[date] = mapped_column(Date)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    payer_name: Mapped[str] = mapped_column(String(500), default="")
    reference: Mapped[str] = mapped_column(String(1000), default="")
    status: Mapped[str] = mapped_column(String(20), default=BankTxnStatus.UNAPPLIED)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"))
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decided_at: Mapped[datetime | None]
    # "auto" when ARBOT_CASH_AUTO_APPLY_CONFIDENCE applied it, "hand" when a person did.
    applied_how: Mapped[str | None] = mapped_column(String(10))
    imported_at: Mapped[datetime] = mapped_column(default=utcnow)
    slack_channel: Mapped[str | None] = mapped_column(String(50))
    slack_ts: Mapped[str | None] = mapped_column(String(50))


class PayerAlias(Base):
    """A payer name (normalised) that an approved match tied to a customer."""

    __tablename__ = "payer_aliases"

    payer_key: Mapped[str] = mapped_column(String(500), primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    learned_from: Mapped[int] = mapped_column(Integer)
    learned_at: Mapped[datetime] = mapped_column(default=utcnow)
