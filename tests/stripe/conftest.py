"""Fixtures for the Stripe sync tests: a fake Stripe on loopback, and a ledger pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from db.models import CreditNote, Customer, Dispute, Invoice, Payment, ProcessedEvent
from tests.fakes.stripe_api import API_KEY, DAY, START, FakeStripe
from tools.deps import ToolDeps
from tools.stripe_sync import RetryPolicy, SyncStats, make_client, run_stripe_sync

WEBHOOK_SECRET = "whsec_test_arbot"
FAST = RetryPolicy(attempts=3, first_delay=0.01)


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as f:
        yield f


@pytest.fixture
def sdeps(deps: ToolDeps, fake: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> ToolDeps:
    """The ledger's deps with Stripe settings pointing at the fake (env too, for the CLI)."""
    monkeypatch.setenv("STRIPE_API_KEY", API_KEY)
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setenv("ARBOT_STRIPE_API_BASE", fake.url)
    settings = deps.settings.model_copy(
        update={
            "stripe_api_key": SecretStr(API_KEY),
            "stripe_webhook_secret": SecretStr(WEBHOOK_SECRET),
            "stripe_api_base": fake.url,
        }
    )
    return ToolDeps(settings=settings, engine=deps.engine, sessions=deps.sessions)


def sync(deps: ToolDeps, **kwargs: Any) -> SyncStats:
    """The real sync with the real client; our own retries made quick for tests."""
    client = make_client(deps, max_network_retries=kwargs.pop("max_network_retries", 2))
    kwargs.setdefault("retry", FAST)
    return run_stripe_sync(deps, client=client, progress=False, **kwargs)


def at(day: float) -> int:
    """A fake timestamp `day` days after 2026-01-01T00:00Z."""
    return START + int(day * DAY)


def day_of(ts: int) -> date:
    return datetime.fromtimestamp(ts, UTC).date()


@dataclass
class World:
    """What `build_world` made, by role, so tests can act on a specific invoice."""

    customers: list[str] = field(default_factory=list)
    open_invoices: list[str] = field(default_factory=list)
    invoices: dict[str, str] = field(default_factory=dict)
    charges: dict[str, str] = field(default_factory=dict)
    disputes: list[str] = field(default_factory=list)


def build_world(fake: FakeStripe, *, invoices: int = 230) -> World:
    """Three customers, a few hundred invoices over four months, and every kind of event:
    full and partial payments, declines (recovered or not), void, uncollectible, credit notes
    before and after payment, a refund, disputes, a draft."""
    w = World()
    acme = fake.add_customer("Acme Corp", email="ap@acme.example.com", at=at(0))
    beta = fake.add_customer(None, email="billing@beta.example.com", currency=None, at=at(0))
    gamma = fake.add_customer(
        "Gamma GmbH", metadata={"segment": "enterprise", "owner_slack_id": "U0GAMMA"}, at=at(0)
    )
    w.customers = [acme["id"], beta["id"], gamma["id"]]
    made = []
    for i in range(invoices):
        cus = w.customers[i % 3]
        inv = fake.add_invoice(
            cus,
            10_000 + 137 * i,
            at=at(i * 0.5),
            days_until_due=(15, 30, 45)[i % 3],
        )
        made.append(inv["id"])
    # Settle older invoices, leave newer ones open (so every aging bucket has something).
    fake.now = at(i * 0.5 + 1)
    for n, inv_id in enumerate(made):
        if n % 4 == 0 and n < 200:
            fake.pay_invoice(inv_id, at=at(n * 0.5 + 10))
    w.invoices = {
        "declined_recovered": made[201],
        "declined_open": made[202],
        "partial": made[203],
        "void": made[205],
        "uncollectible": made[206],
        "credited_open": made[207],
        "paid_credited": made[209],
        "disputed": made[210],
        "to_pay": made[211],
        "to_void": made[213],
        "to_write_off": made[214],
    }
    iv = w.invoices
    base = at(invoices * 0.5 + 2)
    fake.fail_payment(iv["declined_recovered"], at=base)
    w.charges["recovered"] = fake.pay_invoice(iv["declined_recovered"], at=base + 3 * DAY)["id"]
    fake.fail_payment(
        iv["declined_open"], at=base, code="insufficient_funds", message="Insufficient funds."
    )
    fake.pay_invoice(iv["partial"], 4_000, at=base + DAY)
    fake.void_invoice(iv["void"], at=base + DAY)
    fake.mark_uncollectible(iv["uncollectible"], at=base + 2 * DAY)
    fake.add_credit_note(iv["credited_open"], 2_500, at=base + 2 * DAY, reason="duplicate")
    paid = fake.pay_invoice(iv["paid_credited"], at=base + DAY)
    fake.add_credit_note(iv["paid_credited"], 1_000, at=base + 4 * DAY)
    fake.refund_charge(paid["id"], 1_000, at=base + 4 * DAY)
    disputed = fake.pay_invoice(iv["disputed"], at=base + DAY)
    w.charges["disputed"] = disputed["id"]
    w.disputes.append(fake.open_dispute(disputed["id"], at=base + 5 * DAY)["id"])
    lost = fake.pay_invoice(made[215], at=base)
    w.disputes.append(
        fake.open_dispute(lost["id"], at=base + DAY, reason="product_unacceptable")["id"]
    )
    fake.close_dispute(w.disputes[-1], "lost", at=base + 6 * DAY)
    fake.add_invoice(w.customers[0], 99_999, at=base, draft=True)
    fake.now = base + 7 * DAY
    return w


def ledger_rows(deps: ToolDeps) -> dict[str, list[tuple[Any, ...]]]:
    """Every synced row without surrogate ids, to compare two syncs."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with deps.sessions() as s:
        out["customers"] = sorted(
            s.execute(
                select(
                    Customer.external_id,
                    Customer.name,
                    Customer.email,
                    Customer.currency,
                    Customer.segment,
                    Customer.owner_slack_id,
                )
            ).all()
        )
        out["invoices"] = sorted(
            (r[0], *r[1:])
            for r in s.execute(
                select(
                    Invoice.external_id,
                    Invoice.total_minor,
                    Invoice.issued_at,
                    Invoice.due_on,
                    Invoice.voided_at,
                    Invoice.written_off_at,
                    Invoice.settled_at,
                    Invoice.payment_url,
                )
            ).all()
        )
        out["payments"] = sorted(
            s.execute(
                select(
                    Payment.external_id,
                    Payment.amount_minor,
                    Payment.paid_at,
                    Payment.status,
                    Payment.invoice_id,
                    Payment.failure_reason,
                )
            ).all(),
            key=lambda r: r[0],
        )
        out["credit_notes"] = sorted(
            s.execute(
                select(CreditNote.external_id, CreditNote.amount_minor, CreditNote.issued_at)
            ).all()
        )
        out["disputes"] = sorted(
            s.execute(
                select(
                    Dispute.external_id,
                    Dispute.amount_minor,
                    Dispute.invoice_id,
                    Dispute.resolved_at,
                    Dispute.outcome,
                )
            ).all(),
            key=lambda r: r[0],
        )
        out["processed_events"] = sorted(
            s.execute(select(ProcessedEvent.source, ProcessedEvent.event_id)).all()
        )
    return out
