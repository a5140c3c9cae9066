"""An approved write-off of a Xero invoice reaches Xero once, as a credit note allocated to the
invoice, even when the first answer is lost and the outbox retries."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select

from bot.render.proposal import status_line
from db.models import AuditLog, CreditNote, Invoice
from tests.approvals.conftest import APPROVER, COLLECTOR
from tests.fakes.xero_api import FakeXero
from tests.xero.conftest import build_world, sync
from tools import actions
from tools.deps import ToolDeps
from tools.metrics import MetricsInput
from tools.outbox import Outbox
from tools.report import ar_report
from tools.write_off import WriteOffInput, propose_write_off

BAD_DEBTS_ACCOUNT = "684"


def with_approvals(deps: ToolDeps) -> ToolDeps:
    settings = deps.settings.model_copy(
        update={
            "approvers": [APPROVER, COLLECTOR],
            "finance_users": [APPROVER, COLLECTOR],
            "xero_bad_debt_account_code": BAD_DEBTS_ACCOUNT,
        }
    )
    return ToolDeps(settings=settings, engine=deps.engine, sessions=deps.sessions)


def test_write_off_posted_once_through_a_retried_request(xdeps: ToolDeps, fake: FakeXero) -> None:
    w = build_world(fake)
    sync(xdeps)
    deps = with_approvals(xdeps)
    today = actions.now_utc().date()
    before = ar_report(deps, MetricsInput(as_of=today, period_days=365))
    proposed = propose_write_off(
        deps,
        WriteOffInput(
            invoice="INV-1005", reason="Globex is in liquidation", requested_by=COLLECTOR
        ),
    )
    actions.approve(deps, proposed.id, APPROVER)

    fake.lose_answers = 1  # Xero creates the credit note, but its answer never arrives
    box = Outbox(deps, backoff_seconds=0)
    box.run_once()
    first = actions.load(deps, proposed.id)
    assert first.status == "approved" and "Xero failed" in (first.last_error or "")
    box.run_once()
    done = actions.load(deps, proposed.id)
    assert done.status == "done"

    notes = [n for n in fake.objects["CreditNotes"].values() if n["CreditNoteID"] != w.note]
    assert len(notes) == 1
    note = notes[0]
    assert note["Total"] == Decimal("4500.10") and note["RemainingCredit"] == 0
    assert note["Reference"].startswith("Bad debt write-off of INV-1005")
    assert [a["Invoice"]["InvoiceID"] for a in note["Allocations"]] == [w.open_]
    assert fake.objects["Invoices"][w.open_]["AmountDue"] == 0
    creates = [r for r in fake.requests if r.method == "PUT" and r.path.endswith("/CreditNotes")]
    assert len(creates) == 2 and len({r.headers["idempotency-key"] for r in creates}) == 1
    allocations = [r for r in fake.requests if r.path.endswith("/Allocations")]
    assert len(allocations) == 1

    with deps.sessions() as s:
        audit = s.scalars(
            select(AuditLog).where(AuditLog.entity_id == str(proposed.id), AuditLog.event == "done")
        ).one()
        inv = s.scalars(select(Invoice).where(Invoice.external_id == w.open_)).one()
        stamped = inv.written_off_at
    assert audit.after is not None
    assert audit.after["xero_credit_note_id"] == note["CreditNoteID"]
    assert audit.after["xero_idempotency_keys"][0] == creates[0].headers["idempotency-key"]
    card = "".join(str(part) for part in status_line(done))
    assert f"written off (Xero credit note {note['CreditNoteNumber']})" in card
    assert stamped is not None
    after = ar_report(deps, MetricsInput(as_of=today, period_days=365))
    assert before.ar_total_minor - after.ar_total_minor == 450010

    # Reading the books back: the credit note is the same write-off, not a second reduction.
    sync(deps)
    again = ar_report(deps, MetricsInput(as_of=today, period_days=365))
    assert again.ar_total_minor == after.ar_total_minor
    assert again.written_off_minor == after.written_off_minor == 450010
    with deps.sessions() as s:
        inv = s.scalars(select(Invoice).where(Invoice.external_id == w.open_)).one()
        assert inv.written_off_at == stamped
        assert s.scalars(select(CreditNote).where(CreditNote.invoice_id == inv.id)).all() == []


def test_missing_bad_debts_account_fails_with_the_setting_named(
    xdeps: ToolDeps, fake: FakeXero
) -> None:
    build_world(fake)
    sync(xdeps)
    deps = with_approvals(xdeps)
    deps.settings.xero_bad_debt_account_code = None
    proposed = propose_write_off(
        deps, WriteOffInput(invoice="INV-1005", reason="gone", requested_by=COLLECTOR)
    )
    actions.approve(deps, proposed.id, APPROVER)
    Outbox(deps, backoff_seconds=0).run_once()
    failed = actions.load(deps, proposed.id)
    assert failed.status == "failed"
    assert "ARBOT_XERO_BAD_DEBT_ACCOUNT_CODE" in (failed.last_error or "")
    assert not [r for r in fake.requests if r.method == "PUT"]


def test_write_off_made_in_xero_is_read_as_a_write_off(xdeps: ToolDeps, fake: FakeXero) -> None:
    w = build_world(fake)
    fake.add_credit(
        "CreditNotes", w.globex, "4500.10", on=date(2026, 1, 25), allocate={w.open_: "4500.10"},
        reference="Bad debt write-off: closed account",
    )  # fmt: skip
    sync(xdeps)
    got = ar_report(xdeps, MetricsInput(as_of=date(2026, 1, 31), period_days=90))
    assert got.written_off_minor == 450010
    assert got.ar_total_minor == 40025  # the part-paid invoice alone
