"""The AR ledger's tables.

Money is `*_minor: int` plus `currency`. Every row that came from outside (CSV, Stripe)
carries `source` + `external_id`, unique together, so re-importing is an idempotent upsert.
History is kept as dated rows (payments, credit notes) and dated state changes on invoices
(voided_at, written_off_at), so every metric can be asked "as of" any date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from db.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class PaymentStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class DisputeKind(StrEnum):
    CHARGEBACK = "chargeback"
    BILLING = "billing"


class PromiseStatus(StrEnum):
    OPEN = "open"
    KEPT = "kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class ActionKind(StrEnum):
    DUNNING_EMAIL = "dunning_email"
    WRITE_OFF = "write_off"
    # Records the agent proposed and a person confirms; no outbox step, nothing leaves.
    PROMISE_TO_PAY = "promise_to_pay"
    DISPUTE_NOTE = "dispute_note"
    # An applied bank receipt recorded in the books; the click that applied it approved it.
    BOOKS_PAYMENT = "books_payment"


class ActionStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    EXECUTING = "executing"
    DONE = "done"
    FAILED = "failed"
    REJECTED = "rejected"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class Customer(Base):
    __tablename__ = "customers"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(320))
    ap_email: Mapped[str | None] = mapped_column(String(320))
    segment: Mapped[str | None] = mapped_column(String(100))
    payment_terms_days: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    credit_limit_minor: Mapped[int | None] = mapped_column(BigInteger)
    owner_slack_id: Mapped[str | None] = mapped_column(String(50))
    do_not_dun: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        # "Open at D" is `issued_at <= D < settled_at`: AR(D) reads the invoices open around D.
        # (Covering the summed columns halves the digest's scan but costs a third of import
        # speed: every settlement update rewrites it.)
        Index("ix_invoices_settled_at_issued_at", "settled_at", "issued_at"),
        Index("ix_invoices_issued_at", "issued_at", "currency", "voided_at", "total_minor"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(255))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    number: Mapped[str | None] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    issued_at: Mapped[datetime]
    due_on: Mapped[date] = mapped_column(Date)
    voided_at: Mapped[datetime | None]
    written_off_at: Mapped[datetime | None] = mapped_column(index=True)
    # When it stopped being open (void, written off, paid or credited in full); else NULL.
    settled_at: Mapped[datetime | None]
    # Succeeded payments and credits applied, any date (db.settlement): open at D is
    # total - applied + what was applied on or after D, reading only recent rows.
    applied_minor: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    payment_url: Mapped[str | None] = mapped_column(String(2000))
    stripe_ref: Mapped[str | None] = mapped_column(String(255))  # Stripe id the books carry
    # Also held by a source ranked above this one, counted by no figure (tools.ledger_record).
    shadowed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        # Covers "succeeded payments of this invoice before D"; wins over the status index.
        Index(
            "ix_payments_invoice_id_status_paid_at",
            "invoice_id",
            "status",
            "paid_at",
            "amount_minor",
        ),
        # Covers "payments dated on or after D": applied_minor back to the amount at D.
        Index(
            "ix_payments_status_paid_at_invoice_id",
            "status",
            "paid_at",
            "invoice_id",
            "amount_minor",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(255))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    paid_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20))
    method: Mapped[str | None] = mapped_column(String(50))
    failure_reason: Mapped[str | None] = mapped_column(String(500))


class CreditNote(Base):
    __tablename__ = "credit_notes"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(255))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    issued_at: Mapped[datetime] = mapped_column(index=True)  # credit sales by window


class Dispute(Base):
    __tablename__ = "disputes"
    __table_args__ = (UniqueConstraint("source", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(255))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    opened_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(50))
    evidence_due_at: Mapped[datetime | None]


class FxRate(Base):
    __tablename__ = "fx_rates"
    __table_args__ = (UniqueConstraint("currency", "rate_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    rate_on: Mapped[date] = mapped_column(Date)
    # Units of the reporting currency per one unit of `currency`.
    rate: Mapped[Decimal] = mapped_column(Numeric(24, 12))


class PromiseToPay(Base):
    __tablename__ = "promises_to_pay"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    promised_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default=PromiseStatus.OPEN)
    recorded_by: Mapped[str] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("disputes.id"))
    author: Mapped[str] = mapped_column(String(50))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditLog(Base):
    """Append-only: rows are inserted, never updated or deleted."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    event: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(100))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]


class Action(Base):
    """A proposed dunning email or write-off and where it is in its approval lifecycle."""

    __tablename__ = "actions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default=ActionStatus.PROPOSED, index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    payload: Mapped[dict[str, Any]]
    proposed_by: Mapped[str] = mapped_column(String(50))
    proposed_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    approvals: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decided_by: Mapped[str | None] = mapped_column(String(50))
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    slack_channel: Mapped[str | None] = mapped_column(String(50))
    slack_ts: Mapped[str | None] = mapped_column(String(50))
    dunning_stage: Mapped[int | None] = mapped_column(Integer)
    # Bumped by every change: conditional updates on it let one of two concurrent changes win.
    version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class SentEmail(Base):
    """One row per email handed to SMTP; its Message-ID is stable per action."""

    __tablename__ = "sent_emails"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id"), unique=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


class JobRun(Base):
    """The claim that makes a scheduled post happen once per (job, period)."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(50))
    period: Mapped[str] = mapped_column(String(100))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    detail: Mapped[str | None] = mapped_column(Text)


class ProcessedEvent(Base):
    """Slack and Stripe event ids already handled, so retries and redeliveries are no-ops."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("source", "event_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncCursor(Base):
    __tablename__ = "sync_cursors"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class StripeLink(Base):
    """Which customer and invoice a Stripe payment intent or charge belongs to.

    From API version 2025-03-31 on, charges, refunds and disputes do not name their invoice;
    only invoice payments link an invoice to a payment intent. The sync remembers those links
    here so a failed charge, a refund or a dispute seen later still lands on its invoice.
    """

    __tablename__ = "stripe_links"

    object_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    customer_external_id: Mapped[str | None] = mapped_column(String(255))
    invoice_external_id: Mapped[str | None] = mapped_column(String(255))


class ConversationMessage(Base):
    __tablename__ = "conversation_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_key: Mapped[str] = mapped_column(String(100), index=True)
    message: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LlmUsage(Base):
    __tablename__ = "llm_usage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_key: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    prompt_tokens: Mapped[int] = mapped_column(Integer)
    completion_tokens: Mapped[int] = mapped_column(Integer)
    latency_ms: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ArTerm(Base):
    __tablename__ = "ar_terms"  # what each invoice adds to ar_sums, to take back (db.ar_sums)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invoice_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(4))
    currency: Mapped[str] = mapped_column(String(3))
    key_on: Mapped[date] = mapped_column(Date)
    since_at: Mapped[datetime]
    at: Mapped[datetime]
    until_at: Mapped[datetime]
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    n: Mapped[int] = mapped_column(Integer)


class ArSum(Base):
    """AR, credit sales and dunning attempts as dated sums, and the ledger version (db.ar_sums).
    Clustered on the key AR(D) reads in order (SQLite: no rowid), one index for the windows."""

    __tablename__ = "ar_sums"
    __table_args__ = (Index("ix_ar_sums_kind_at", "kind", "at"), {"sqlite_with_rowid": False})
    kind: Mapped[str] = mapped_column(String(4), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    key_on: Mapped[date] = mapped_column(Date, primary_key=True)
    at: Mapped[datetime] = mapped_column(primary_key=True)
    since_at: Mapped[datetime] = mapped_column(primary_key=True)
    until_at: Mapped[datetime] = mapped_column(primary_key=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    n: Mapped[int] = mapped_column(Integer)
