"""`arbot quickbooks sync` against the fake QuickBooks Online, on SQLite and PostgreSQL, with
the real python-quickbooks and intuit-oauth clients."""

from __future__ import annotations

import logging
from datetime import date

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

from bot.cli import main
from db.models import CreditNote, Invoice, Payment
from db.oauth_tokens import OAuthToken
from tests.fakes.quickbooks_api import FIRST_REFRESH_TOKEN, FakeQuickBooks
from tests.quickbooks.conftest import TOKEN_KEY, balance, build_world, sync
from tools.deps import ToolDeps
from tools.metrics import MetricsInput
from tools.report import ar_report
from tools.stripe_sync import RetryPolicy, SyncInterrupted

AS_OF = date(2026, 1, 31)


def ar(deps: ToolDeps) -> tuple[int, int]:
    got = ar_report(deps, MetricsInput(as_of=AS_OF, period_days=90))
    return got.ar_total_minor, got.unapplied_cash_minor


def invoices(deps: ToolDeps) -> dict[str, Invoice]:
    with deps.sessions() as s:
        rows = s.scalars(select(Invoice).where(Invoice.source == "quickbooks")).all()
        return {r.external_id: r for r in rows}


def test_full_sync_matches_quickbooks_balances(qdeps: ToolDeps, fake: FakeQuickBooks) -> None:
    w = build_world(fake)
    stats = sync(qdeps)
    assert stats.problems == []
    assert stats.objects == {"Customer": 2, "Invoice": 5, "CreditMemo": 1, "Payment": 3}

    got = invoices(qdeps)
    assert {i.number: i.total_minor for i in got.values()} == {
        "1001": 120000,
        "1002": 80050,
        "1003": 30000,
        "1004": 0,
        "1005": 450010,
    }
    assert got[w.voided].voided_at is not None
    assert got[w.paid].settled_at is not None and got[w.credited].settled_at is not None
    assert got[w.part].settled_at is None
    # AR is what QuickBooks' balances add up to; unapplied cash and unused credit beside it.
    open_total = sum(balance(fake, i) for i in (w.paid, w.part, w.credited, w.voided, w.open_))
    assert ar(qdeps) == (open_total, 40025 + 5000)
    with qdeps.sessions() as s:
        notes = s.scalars(select(CreditNote).where(CreditNote.source == "quickbooks")).all()
        assert [(n.invoice_id, n.amount_minor) for n in notes] == [(got[w.credited].id, 30000)]


def test_refresh_token_is_rotated_and_stored_encrypted(
    qdeps: ToolDeps, fake: FakeQuickBooks
) -> None:
    build_world(fake)
    sync(qdeps)
    with qdeps.sessions() as s:
        row = s.scalars(select(OAuthToken).where(OAuthToken.provider == "quickbooks")).one()
    assert row.provider == "quickbooks"
    assert fake.refresh_token not in row.refresh_token_encrypted
    decrypted = Fernet(TOKEN_KEY.encode()).decrypt(row.refresh_token_encrypted.encode()).decode()
    assert decrypted == fake.refresh_token != FIRST_REFRESH_TOKEN
    # The seed in the settings is dead now; the next run must use the stored one.
    sync(qdeps)
    assert FIRST_REFRESH_TOKEN in fake.refused_refresh_tokens


def test_incremental_sync_reads_only_what_changed(qdeps: ToolDeps, fake: FakeQuickBooks) -> None:
    w = build_world(fake)
    sync(qdeps)
    fake.requests.clear()
    fake.add_payment(w.globex, "4500.10", txn_date=date(2026, 1, 28), invoices={w.open_: "4500.10"})
    late = fake.add_invoice(w.acme, "75.00", txn_date=date(2026, 1, 29), number="1006")

    stats = sync(qdeps)
    # The paid invoice changed (its Balance), the new one appeared; nothing else is re-read.
    assert stats.objects == {"Customer": 0, "Invoice": 2, "CreditMemo": 0, "Payment": 1}
    assert all("LastUpdatedTime >=" in r.body for r in fake.api_requests())
    assert ar(qdeps)[0] == balance(fake, w.part) + balance(fake, late) == 40025 + 7500
    assert sync(qdeps).objects == {"Customer": 0, "Invoice": 0, "CreditMemo": 0, "Payment": 0}


def test_expired_access_token_is_refreshed_mid_sync(qdeps: ToolDeps, fake: FakeQuickBooks) -> None:
    build_world(fake)
    fake.expire_access_token(after_calls=2)
    stats = sync(qdeps, page_size=2)
    assert stats.token_refreshes == 2
    assert [r.status for r in fake.api_requests()].count(401) == 1
    assert len(invoices(qdeps)) == 5


def test_429_and_500_are_retried(qdeps: ToolDeps, fake: FakeQuickBooks) -> None:
    w = build_world(fake)
    fake.fail(429, entity="Invoice")
    fake.fail(500, entity="Payment")
    stats = sync(qdeps)
    assert stats.retries == 2
    assert sorted(r.status for r in fake.api_requests() if r.status != 200) == [429, 500]
    assert ar(qdeps)[0] == balance(fake, w.part) + balance(fake, w.open_)


def test_interrupted_sync_resumes_where_it_stopped(qdeps: ToolDeps, fake: FakeQuickBooks) -> None:
    w = build_world(fake)
    fake.fail(503, times=5, entity="Payment")
    with pytest.raises(SyncInterrupted, match="run the sync again"):
        sync(qdeps, page_size=2, retry=RetryPolicy(attempts=2, first_delay=0.01))
    assert len(invoices(qdeps)) == 5  # committed pages stay
    fake.failures.clear()
    fake.requests.clear()
    stats = sync(qdeps, page_size=2)
    assert stats.objects["Invoice"] == 0 and stats.objects["Payment"] == 3
    assert ar(qdeps)[0] == balance(fake, w.part) + balance(fake, w.open_)


def test_malformed_objects_are_reported_and_the_rest_synced(
    qdeps: ToolDeps, fake: FakeQuickBooks, capsys: pytest.CaptureFixture[str]
) -> None:
    w = build_world(fake)
    fake.plant(
        "Invoice",
        {"Id": "900", "TxnDate": "2026-01-06", "CustomerRef": {"value": w.acme}, "TotalAmt": "x"},
    )
    fake.plant("Invoice", {"Id": "901", "TxnDate": "2026-01-06", "TotalAmt": 10})
    fake.plant(
        "Payment",
        {
            "Id": "902",
            "TxnDate": "2026-01-07",
            "CustomerRef": {"value": w.acme},
            "TotalAmt": 5,
            "Line": [{"Amount": 5, "LinkedTxn": [{"TxnId": "777", "TxnType": "Invoice"}]}],
        },
    )
    assert main(["quickbooks", "sync"]) == 1
    out = capsys.readouterr().out
    assert "left out (3)" in out
    assert "Invoice 900: TotalAmt 'x' is not a number" in out
    assert "Invoice 901: CustomerRef.value is missing" in out
    assert "Payment 902: unknown invoice 777" in out
    assert set(invoices(qdeps)) == {w.paid, w.part, w.credited, w.voided, w.open_}
    assert ar(qdeps)[0] == balance(fake, w.part) + balance(fake, w.open_)
    with qdeps.sessions() as s:
        ids = s.scalars(select(Payment.external_id).where(Payment.source == "quickbooks")).all()
    assert not any(i.startswith("902:") for i in ids)


def test_payment_moved_to_another_invoice_leaves_the_first_open(
    qdeps: ToolDeps, fake: FakeQuickBooks
) -> None:
    w = build_world(fake)
    pid = fake.add_payment(
        w.globex, "100.00", txn_date=date(2026, 1, 24), invoices={w.open_: "100"}
    )
    sync(qdeps)
    assert ar(qdeps)[0] == balance(fake, w.part) + 450010 - 10000
    # Re-applied in QuickBooks to a new invoice of the same customer.
    extra = fake.add_invoice(w.globex, "100.00", txn_date=date(2026, 1, 6), number="1007")
    line = {"Amount": 100, "LinkedTxn": [{"TxnId": extra, "TxnType": "Invoice"}]}
    fake.update("Payment", pid, Line=[line])
    sync(qdeps)
    got = invoices(qdeps)
    assert got[extra].settled_at is not None
    assert ar(qdeps)[0] == balance(fake, w.part) + 450010
    with qdeps.sessions() as s:
        moved = s.scalars(select(Payment).where(Payment.external_id == f"{pid}:{w.open_}")).one()
    assert moved.amount_minor == 0


def test_many_changes_in_one_second_are_each_read_once(
    qdeps: ToolDeps, fake: FakeQuickBooks
) -> None:
    w = build_world(fake)
    fake.step_seconds = 0  # a bulk import: seven invoices share one LastUpdatedTime
    bulk = [fake.add_invoice(w.acme, "10.00", txn_date=date(2026, 1, 9)) for _ in range(7)]
    fake.step_seconds = 1
    first = sync(qdeps, page_size=3)
    assert first.objects["Invoice"] == 5 + 7
    assert set(bulk) <= set(invoices(qdeps))
    later = fake.add_invoice(w.acme, "20.00", txn_date=date(2026, 1, 10))
    again = sync(qdeps, page_size=3)
    assert again.objects["Invoice"] == 1 and later in invoices(qdeps)
    assert ar(qdeps)[0] == balance(fake, w.part) + balance(fake, w.open_) + 7 * 1000 + 2000


def test_deletions_in_quickbooks_reach_the_ledger(qdeps: ToolDeps, fake: FakeQuickBooks) -> None:
    w = build_world(fake)
    pid = fake.add_payment(
        w.globex, "500.00", txn_date=date(2026, 1, 25), invoices={w.open_: "500"}
    )
    sync(qdeps)
    assert ar(qdeps)[0] == 40025 + 450010 - 50000
    fake.delete("Payment", pid)  # entered by mistake: the invoice is owed in full again
    fake.delete("Invoice", w.part)  # deleted in QuickBooks: no longer a receivable
    stats = sync(qdeps)
    assert stats.deleted == 2
    assert ar(qdeps)[0] == balance(fake, w.open_) == 450010
    with qdeps.sessions() as s:
        rows = s.scalars(select(Payment).where(Payment.external_id.startswith(f"{pid}:"))).all()
    assert [r.amount_minor for r in rows] == [0]
    assert invoices(qdeps)[w.part].voided_at is not None
    assert sync(qdeps).deleted == 0  # seen once


def test_tokens_never_reach_the_logs(
    qdeps: ToolDeps, fake: FakeQuickBooks, caplog: pytest.LogCaptureFixture
) -> None:
    build_world(fake)
    caplog.set_level(logging.DEBUG)
    fake.expire_access_token(after_calls=1)  # a refresh in the middle, logged by the clients
    sync(qdeps, page_size=2)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Bearer ***" in logged  # the clients did log their headers, masked
    for token in (fake.access_token, fake.refresh_token, FIRST_REFRESH_TOKEN):
        assert token and token not in logged
