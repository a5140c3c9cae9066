"""Backfill and incremental sync against the fake Stripe, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from bot.cli import main
from db.models import CreditNote, Customer, Dispute, Invoice, Payment
from tests.fakes.stripe_api import DAY, FakeStripe
from tests.stripe.conftest import at, build_world, day_of, ledger_rows, sync
from tests.stripe.expected import expected
from tools.deps import ToolDeps
from tools.metrics import ArMetrics, MetricsInput
from tools.money import format_major
from tools.report import ar_report


def report(deps: ToolDeps, as_of: date) -> ArMetrics:
    return ar_report(deps, MetricsInput(as_of=as_of, period_days=90))


def assert_matches_stripe(deps: ToolDeps, fake: FakeStripe, as_of: date) -> None:
    want = expected(fake, as_of)
    got = report(deps, as_of)
    assert got.ar_total_minor == want.ar
    assert got.aging_minor == want.aging
    assert got.credit_sales_minor == want.credit_sales
    assert got.written_off_minor == want.written_off
    assert got.failed_attempt_invoices == want.failed_attempt_invoices
    assert got.recovered_invoices == want.recovered_invoices
    assert got.unapplied_cash_minor == 0


def test_backfill_report_equals_stripe(
    sdeps: ToolDeps, fake: FakeStripe, capsys: pytest.CaptureFixture[str]
) -> None:
    build_world(fake)
    stats = sync(sdeps)
    assert stats.objects["invoice"] == 231  # 230 finalized + 1 draft listed, draft not kept
    as_of = day_of(fake.now)
    want = expected(fake, as_of)
    assert want.ar > 0 and all(want.aging.values()), "the world should fill every bucket"
    assert want.failed_attempt_invoices == 2 and want.recovered_invoices == 1
    assert_matches_stripe(sdeps, fake, as_of)

    assert main(["report", "--json", "--as-of", as_of.isoformat()]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["ar_total"] == format_major(want.ar, "USD")
    assert printed["credit_sales"] == format_major(want.credit_sales, "USD")
    assert printed["aging"]["90+"] == format_major(want.aging["90+"], "USD")


def test_mapping_field_by_field(sdeps: ToolDeps, fake: FakeStripe) -> None:
    deps = ToolDeps(
        settings=sdeps.settings.model_copy(update={"timezone": "America/New_York"}),
        engine=sdeps.engine,
        sessions=sdeps.sessions,
    )
    w = build_world(fake)
    # Due at 03:00 UTC on Feb 1st is still January 31st in New York.
    late = fake.add_invoice(w.customers[1], 5_000, at=at(20), due_date=at(31) + 3 * 3600)
    sync(deps)
    stripe_inv = fake.get("invoice", w.invoices["uncollectible"])
    with deps.sessions() as s:
        inv = s.execute(select(Invoice).where(Invoice.external_id == late["id"])).scalar_one()
        assert inv.due_on == date(2026, 1, 31)
        assert inv.issued_at == datetime.fromtimestamp(at(20), UTC)
        assert inv.total_minor == 5_000 and inv.currency == "USD"
        assert inv.payment_url == late["hosted_invoice_url"]
        written = s.execute(
            select(Invoice).where(Invoice.external_id == stripe_inv["id"])
        ).scalar_one()
        assert written.written_off_at == datetime.fromtimestamp(
            stripe_inv["status_transitions"]["marked_uncollectible_at"], UTC
        )
        void = s.execute(
            select(Invoice).where(Invoice.external_id == w.invoices["void"])
        ).scalar_one()
        assert void.voided_at is not None and void.settled_at == void.voided_at
        assert s.scalar(select(func.count()).where(Invoice.total_minor == 99_999)) == 0  # draft

        beta = s.execute(
            select(Customer).where(Customer.external_id == w.customers[1])
        ).scalar_one()
        assert beta.name == "billing@beta.example.com" and beta.currency == "USD"
        gamma = s.execute(
            select(Customer).where(Customer.external_id == w.customers[2])
        ).scalar_one()
        assert (gamma.segment, gamma.owner_slack_id) == ("enterprise", "U0GAMMA")

        declined = s.execute(
            select(Payment, Invoice.external_id)
            .join(Invoice, Invoice.id == Payment.invoice_id)
            .where(Payment.status == "failed")
            .order_by(Invoice.external_id)
        ).all()
        assert [(p.failure_reason, ext) for p, ext in declined] == [
            ("Your card was declined. (card_declined)", w.invoices["declined_recovered"]),
            ("Insufficient funds. (insufficient_funds)", w.invoices["declined_open"]),
        ]
        refund = s.execute(select(Payment).where(Payment.method == "refund")).scalar_one()
        assert refund.amount_minor == -1_000
        assert s.get(Invoice, refund.invoice_id).external_id == w.invoices["paid_credited"]  # type: ignore[union-attr]
        credits = s.execute(
            select(Invoice.external_id, CreditNote.amount_minor).join(
                Invoice, Invoice.id == CreditNote.invoice_id
            )
        ).all()
        assert sorted(credits) == sorted(
            [(w.invoices["credited_open"], 2_500), (w.invoices["paid_credited"], 1_000)]
        )
        disputes = {d.external_id: d for d in s.execute(select(Dispute)).scalars()}
        open_one = disputes[w.disputes[0]]
        assert open_one.resolved_at is None and open_one.kind == "chargeback"
        assert open_one.evidence_due_at == datetime.fromtimestamp(
            fake.get("dispute", w.disputes[0])["evidence_details"]["due_by"], UTC
        )
        assert s.get(Invoice, open_one.invoice_id).external_id == w.invoices["disputed"]  # type: ignore[union-attr]
        lost = disputes[w.disputes[1]]
        assert lost.outcome == "lost" and lost.resolved_at is not None


def test_resync_changes_nothing(sdeps: ToolDeps, fake: FakeStripe) -> None:
    build_world(fake)
    sync(sdeps)
    before = ledger_rows(sdeps)
    again = sync(sdeps, full=True)
    assert again.total_objects > 0
    assert ledger_rows(sdeps) == before
    events_only = sync(sdeps)
    assert events_only.events_applied == 0 and events_only.total_objects == 0
    assert ledger_rows(sdeps) == before


@pytest.mark.parametrize("change", ["pay", "void", "uncollectible"])
def test_change_on_stripe_moves_ar_by_that_invoice(
    sdeps: ToolDeps, fake: FakeStripe, change: str
) -> None:
    w = build_world(fake)
    sync(sdeps)
    as_of = day_of(fake.now + DAY)
    before = report(sdeps, as_of)
    target = w.invoices[
        {"pay": "to_pay", "void": "to_void", "uncollectible": "to_write_off"}[change]
    ]
    remaining = fake.get("invoice", target)["amount_remaining"]
    assert remaining > 0
    fake.now += 3600
    {"pay": fake.pay_invoice, "void": fake.void_invoice, "uncollectible": fake.mark_uncollectible}[
        change
    ](target)
    stats = sync(sdeps)
    assert stats.total_objects == 0 and stats.events_applied > 0  # events only, no re-walk
    after = report(sdeps, as_of)
    assert before.ar_total_minor - after.ar_total_minor == remaining
    assert_matches_stripe(sdeps, fake, as_of)
    if change == "uncollectible":
        assert after.written_off_minor - before.written_off_minor == remaining


def test_events_are_applied_once(sdeps: ToolDeps, fake: FakeStripe) -> None:
    w = build_world(fake)
    sync(sdeps)
    fake.now += DAY
    fake.pay_invoice(w.invoices["to_pay"])
    first = sync(sdeps)
    rows = ledger_rows(sdeps)
    second = sync(sdeps)
    assert first.events_applied > 0
    assert second.events_applied == 0 and second.events_skipped >= first.events_applied
    assert ledger_rows(sdeps) == rows
