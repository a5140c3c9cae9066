"""Bad debt as Xero records it, a credit note allocated to the invoice: the ledger writes the
invoice off only while such a note covers all it owed, and reopens it when the note goes."""

from __future__ import annotations

from datetime import date

from tests.fakes.xero_api import FakeXero
from tests.xero.conftest import build_world, sync
from tests.xero.test_sync import ar, due, invoices
from tools.deps import ToolDeps
from tools.metrics import MetricsInput
from tools.report import ar_report

REASON = "Bad debt write-off: closed account"


def written_off(deps: ToolDeps) -> int:
    got = ar_report(deps, MetricsInput(as_of=date(2026, 1, 31), period_days=90))
    return got.written_off_minor


def test_voided_bad_debt_note_reopens_the_invoice(xdeps: ToolDeps, fake: FakeXero) -> None:
    w = build_world(fake)
    bad = fake.add_credit(
        "CreditNotes", w.globex, "4500.10", on=date(2026, 1, 25), allocate={w.open_: "4500.10"},
        reference=REASON,
    )  # fmt: skip
    sync(xdeps)
    assert invoices(xdeps)[w.open_].written_off_at is not None
    assert written_off(xdeps) == 450010
    # The controller reverses the write-off in Xero: the note is voided, the invoice owed again.
    fake.set_status("CreditNotes", bad, "VOIDED")
    fake.update("Invoices", w.open_, Status="AUTHORISED", AmountCredited=0,
                AmountDue=fake.objects["Invoices"][w.open_]["Total"])  # fmt: skip
    sync(xdeps)
    assert invoices(xdeps)[w.open_].written_off_at is None
    assert ar(xdeps)[0] == due(fake, w.paid, w.part, w.credited, w.open_) == 40025 + 450010
    assert written_off(xdeps) == 0


def test_deleted_allocation_reopens_the_invoice(xdeps: ToolDeps, fake: FakeXero) -> None:
    w = build_world(fake)
    bad = fake.add_credit(
        "CreditNotes", w.globex, "4500.10", on=date(2026, 1, 25), allocate={w.open_: "4500.10"},
        reference=REASON,
    )  # fmt: skip
    sync(xdeps)
    note = fake.objects["CreditNotes"][bad]
    allocation = note["Allocations"][0] | {"IsDeleted": True}
    fake.update("CreditNotes", bad, Allocations=[allocation], RemainingCredit=note["Total"],
                Status="AUTHORISED")  # fmt: skip
    fake.update("Invoices", w.open_, Status="AUTHORISED", AmountCredited=0,
                AmountDue=fake.objects["Invoices"][w.open_]["Total"])  # fmt: skip
    sync(xdeps)
    assert invoices(xdeps)[w.open_].written_off_at is None
    # AR is owed again; the unallocated bad-debt note is nobody's cash.
    assert ar(xdeps) == (due(fake, w.paid, w.part, w.credited, w.open_), 5000 + 5000 + 6000)


def test_partial_bad_debt_note_writes_off_only_its_amount(xdeps: ToolDeps, fake: FakeXero) -> None:
    w = build_world(fake)
    fake.add_credit(
        "CreditNotes", w.globex, "1000.00", on=date(2026, 1, 25), allocate={w.open_: "1000.00"},
        reference="Bad debt write-off: settlement agreed",
    )  # fmt: skip
    sync(xdeps)
    assert invoices(xdeps)[w.open_].written_off_at is None
    assert ar(xdeps)[0] == due(fake, w.paid, w.part, w.credited, w.open_) == 40025 + 350010
