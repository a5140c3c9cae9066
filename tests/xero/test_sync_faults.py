"""The Xero sync when Xero misbehaves or the books change under it: rate limits, server
errors, an expired access token, an interruption, malformed objects, deleted and voided
documents."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from sqlalchemy import select

from bot.cli import main
from db.models import Payment
from tests.fakes.xero_api import CLIENT_SECRET, FIRST_REFRESH_TOKEN, FakeXero
from tests.xero.conftest import build_world, sync
from tests.xero.test_sync import ar, due, invoices
from tools.deps import ToolDeps
from tools.stripe_sync import RetryPolicy, SyncInterrupted


def test_429_and_500_are_retried(xdeps: ToolDeps, fake: FakeXero) -> None:
    w = build_world(fake)
    fake.fail(429, entity="Invoices")
    fake.fail(500, entity="Payments")
    stats = sync(xdeps)
    assert stats.retries == 2
    assert sorted(r.status for r in fake.api_requests() if r.status != 200) == [429, 500]
    assert ar(xdeps)[0] == due(fake, w.paid, w.part, w.credited, w.open_)


def test_expired_access_token_is_refreshed_mid_sync(xdeps: ToolDeps, fake: FakeXero) -> None:
    build_world(fake)
    fake.expire_access_token(after_calls=2)
    stats = sync(xdeps, page_size=2)
    assert stats.token_refreshes == 2
    assert [r.status for r in fake.api_requests()].count(401) == 1
    assert len(invoices(xdeps)) == 5


def test_interrupted_sync_resumes_where_it_stopped(xdeps: ToolDeps, fake: FakeXero) -> None:
    w = build_world(fake)
    fake.fail(503, times=5, entity="Payments")
    with pytest.raises(SyncInterrupted, match="run the sync again"):
        sync(xdeps, page_size=2, retry=RetryPolicy(attempts=2, first_delay=0.01))
    assert len(invoices(xdeps)) == 5  # committed pages stay
    fake.failures.clear()
    fake.requests.clear()
    stats = sync(xdeps, page_size=2)
    assert stats.objects["Invoices"] == 0 and stats.objects["Payments"] == 2
    assert ar(xdeps)[0] == due(fake, w.paid, w.part, w.credited, w.open_)


def test_malformed_objects_are_reported_and_the_rest_synced(
    xdeps: ToolDeps, fake: FakeXero, capsys: pytest.CaptureFixture[str]
) -> None:
    w = build_world(fake)
    good = fake.objects["Invoices"][w.open_]
    fake.plant("Invoices", good | {"InvoiceID": "bad-total", "Total": "x"})
    fake.plant(
        "Invoices", {k: v for k, v in good.items() if k != "Contact"} | {"InvoiceID": "no-contact"}
    )
    fake.plant("Invoices", good | {"InvoiceID": "odd-status", "Status": "ARCHIVED"})
    fake.plant("Invoices", good | {"InvoiceID": "odd-date", "Date": "/Date(yesterday)/"})
    fake.plant(
        "Payments",
        {"PaymentID": "stray", "PaymentType": "ACCRECPAYMENT", "Status": "AUTHORISED",
         "Amount": 5, "Date": "/Date(1767657600000+0000)/",
         "Invoice": {"InvoiceID": "nowhere", "Contact": {"ContactID": w.acme}}},
    )  # fmt: skip
    assert main(["xero", "sync"]) == 1
    out = capsys.readouterr().out
    assert "left out (5)" in out
    assert "Invoices bad-total: Total 'x' is not a number" in out
    assert "Invoices no-contact: Contact.ContactID is missing" in out
    assert "Invoices odd-status: Status 'ARCHIVED' is not an invoice status" in out
    assert "Invoices odd-date: Date '/Date(yesterday)/' is not a date" in out
    assert "Payments stray: unknown invoice nowhere" in out
    assert set(invoices(xdeps)) == {w.paid, w.part, w.credited, w.voided, w.open_}
    assert ar(xdeps)[0] == due(fake, w.paid, w.part, w.credited, w.open_)


def test_deleted_payment_and_voided_credit_note_reach_the_ledger(
    xdeps: ToolDeps, fake: FakeXero
) -> None:
    w = build_world(fake)
    pid = fake.add_payment(w.open_, "500.00", on=date(2026, 1, 25))
    sync(xdeps)
    assert ar(xdeps)[0] == due(fake, w.paid, w.part, w.credited, w.open_)
    fake.delete_payment(pid)  # entered by mistake: the invoice is owed in full again
    fake.set_status("CreditNotes", w.note, "VOIDED")  # its allocation goes with it
    fake.set_status("Invoices", w.credited, "AUTHORISED")
    fake.update("Invoices", w.credited, AmountDue=fake.objects["Invoices"][w.credited]["Total"])
    sync(xdeps)
    assert ar(xdeps)[0] == due(fake, w.paid, w.part, w.credited, w.open_) == 450010 + 40025 + 30000
    with xdeps.sessions() as s:
        rows = s.scalars(select(Payment).where(Payment.external_id.startswith(f"{pid}:"))).all()
        left = s.scalars(select(Payment).where(Payment.external_id == f"{w.note}:remaining")).one()
    assert [r.amount_minor for r in rows] == [0]
    assert left.amount_minor == 0  # a void credit note leaves the customer no credit


def test_many_changes_in_one_millisecond_are_each_read(xdeps: ToolDeps, fake: FakeXero) -> None:
    w = build_world(fake)
    fake.step_ms = 0  # a bulk import: seven invoices share one UpdatedDateUTC
    bulk = [fake.add_invoice(w.acme, "10.00", on=date(2026, 1, 9)) for _ in range(7)]
    fake.step_ms = 1000
    sync(xdeps, page_size=3)
    assert set(bulk) <= set(invoices(xdeps))
    later = fake.add_invoice(w.acme, "20.00", on=date(2026, 1, 10))
    again = sync(xdeps, page_size=3)
    assert again.objects["Invoices"] == 1 and later in invoices(xdeps)
    assert ar(xdeps)[0] == due(fake, w.paid, w.part, w.credited, w.open_) + 7 * 1000 + 2000


def test_tokens_never_reach_the_logs(
    xdeps: ToolDeps, fake: FakeXero, caplog: pytest.LogCaptureFixture
) -> None:
    build_world(fake)
    caplog.set_level(logging.DEBUG)
    fake.expire_access_token(after_calls=1)  # a refresh in the middle
    sync(xdeps, page_size=2)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "127.0.0.1" in logged  # the clients did log their requests
    for token in (fake.access_token, fake.refresh_token, FIRST_REFRESH_TOKEN, CLIENT_SECRET):
        assert token and token not in logged
