"""`arbot xero sync` against the fake Xero, on SQLite and PostgreSQL, with the real
xero-python client."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from cryptography.fernet import Fernet
from sqlalchemy import select

from db.models import CreditNote, Customer, Invoice
from db.oauth_tokens import OAuthToken
from tests.fakes.xero_api import FIRST_REFRESH_TOKEN, FakeXero
from tests.xero.conftest import TOKEN_KEY, build_world, sync
from tools.deps import ToolDeps
from tools.metrics import MetricsInput
from tools.report import ar_report

AS_OF = date(2026, 1, 31)


def ar(deps: ToolDeps) -> tuple[int, int]:
    got = ar_report(deps, MetricsInput(as_of=AS_OF, period_days=90))
    return got.ar_total_minor, got.unapplied_cash_minor


def invoices(deps: ToolDeps) -> dict[str, Invoice]:
    with deps.sessions() as s:
        rows = s.scalars(select(Invoice).where(Invoice.source == "xero")).all()
        return {r.external_id: r for r in rows}


def due(fake: FakeXero, *ids: str) -> int:
    """What Xero says is still owed on these invoices, in cents."""
    return sum(int(fake.objects["Invoices"][i]["AmountDue"] * 100) for i in ids)


def test_full_sync_matches_xero_amounts_due(xdeps: ToolDeps, fake: FakeXero) -> None:
    w = build_world(fake)
    stats = sync(xdeps)
    assert stats.problems == []
    assert stats.objects == {"Contacts": 3, "Invoices": 6, "CreditNotes": 1, "Payments": 2,
                             "Overpayments": 1, "Prepayments": 1}  # fmt: skip
    got = invoices(xdeps)
    assert w.draft not in got  # not posted, so not a receivable
    assert {i.number: i.total_minor for i in got.values()} == {
        "INV-1001": 120000,
        "INV-1002": 80050,
        "INV-1003": 30000,
        "INV-1004": 9999,
        "INV-1005": 450010,
    }
    assert got[w.voided].voided_at is not None
    assert got[w.paid].settled_at is not None and got[w.credited].settled_at is not None
    assert got[w.part].settled_at is None
    with xdeps.sessions() as s:
        names = s.scalars(select(Customer.name).where(Customer.source == "xero")).all()
        notes = s.scalars(select(CreditNote).where(CreditNote.source == "xero")).all()
    assert sorted(names) == ["Acme Corp", "Globex"]
    assert [(n.invoice_id, n.amount_minor) for n in notes] == [(got[w.credited].id, 30000)]
    # AR is what Xero's amounts due add up to; unapplied cash and unused credit beside it:
    # 50.00 left of the credit note, 50.00 of the overpayment, the 60.00 prepayment.
    posted = (w.paid, w.part, w.credited, w.open_)
    assert ar(xdeps) == (due(fake, *posted), 5000 + 5000 + 6000)


def test_refresh_token_is_rotated_and_stored_encrypted(xdeps: ToolDeps, fake: FakeXero) -> None:
    build_world(fake)
    sync(xdeps)
    with xdeps.sessions() as s:
        row = s.scalars(select(OAuthToken)).one()
    assert (row.provider, row.tenant_id) == ("xero", xdeps.settings.xero_tenant_id)
    assert fake.refresh_token not in row.refresh_token_encrypted
    decrypted = Fernet(TOKEN_KEY.encode()).decrypt(row.refresh_token_encrypted.encode()).decode()
    assert decrypted == fake.refresh_token != FIRST_REFRESH_TOKEN
    sync(xdeps)  # the seed in the settings is dead now; the stored token is used
    assert FIRST_REFRESH_TOKEN not in fake.refused_refresh_tokens
    assert len([r for r in fake.requests if r.path == "/connect/token"]) == 2


def test_incremental_sync_reads_only_what_changed(xdeps: ToolDeps, fake: FakeXero) -> None:
    w = build_world(fake)
    sync(xdeps)
    fake.requests.clear()
    fake.add_payment(w.open_, "4500.10", on=date(2026, 1, 28))
    late = fake.add_invoice(w.acme, "75.00", on=date(2026, 1, 29), number="INV-1007")
    stats = sync(xdeps)
    # The paid invoice changed (its AmountDue), the new one appeared; nothing else is re-read.
    assert stats.objects == {"Contacts": 0, "Invoices": 2, "CreditNotes": 0, "Payments": 1,
                             "Overpayments": 0, "Prepayments": 0}  # fmt: skip
    assert all("if-modified-since" in r.headers for r in fake.api_requests())
    assert ar(xdeps)[0] == due(fake, w.part, late) == 40025 + 7500
    assert sync(xdeps).total_objects == 0


def test_yen_and_a_two_decimal_currency_are_exact(xdeps: ToolDeps, fake: FakeXero) -> None:
    tokyo = fake.add_contact("Tokyo KK", currency="JPY")
    yen = fake.add_invoice(tokyo, "1234567", on=date(2026, 1, 6), currency="JPY")
    euro = fake.add_invoice(tokyo, "0.10", on=date(2026, 1, 6), currency="EUR")
    fake.add_payment(yen, "34567", on=date(2026, 1, 7))
    fake.add_payment(euro, "0.07", on=date(2026, 1, 7))
    sync(xdeps)
    got = invoices(xdeps)
    assert (got[yen].total_minor, got[yen].currency) == (1234567, "JPY")
    assert (got[euro].total_minor, got[euro].currency) == (10, "EUR")
    for currency, open_minor in (("JPY", 1200000), ("EUR", 3)):
        one = ar_report(xdeps, MetricsInput(as_of=AS_OF, period_days=90, currency=currency))
        assert one.ar_total_minor == open_minor
    fake.plant("Invoices", fake.objects["Invoices"][yen] | {"InvoiceID": "yen-2",
               "Total": Decimal("10.5"), "InvoiceNumber": "Y-2"})  # fmt: skip
    problems = sync(xdeps).problems
    assert [str(p) for p in problems] == [
        "Invoices yen-2: Total 10.5 has more decimals than JPY allows"
    ]
