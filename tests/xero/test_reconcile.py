"""Reconciling Xero with Stripe (each synced from its fake, with the vendors' own clients):
every kind of difference, the bot's answer to "does Stripe match Xero?", and a CSV export
compared with Xero, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.cli import main
from tests.fakes.stripe_api import API_KEY, FakeStripe
from tests.fakes.xero_api import FakeXero
from tests.ledger_files import customer, invoice, write_csvs
from tests.stripe.conftest import at
from tests.stripe.conftest import sync as stripe_sync
from tests.xero.conftest import World, build_world, sync
from tools.csv_import import import_directory
from tools.deps import ToolDeps
from tools.reconcile import ReconcileInput, reconcile


@pytest.fixture
def stripe() -> Iterator[FakeStripe]:
    with FakeStripe() as f:
        yield f


@pytest.fixture
def both(xdeps: ToolDeps, stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> ToolDeps:
    monkeypatch.setenv("STRIPE_API_KEY", API_KEY)
    monkeypatch.setenv("ARBOT_STRIPE_API_BASE", stripe.url)
    update = {"stripe_api_key": SecretStr(API_KEY), "stripe_api_base": stripe.url}
    settings = xdeps.settings.model_copy(update=update)
    return ToolDeps(settings=settings, engine=xdeps.engine, sessions=xdeps.sessions)


def stripe_world(stripe: FakeStripe) -> None:
    """The same invoices as Stripe bills them, with one difference of each kind."""
    acme = stripe.add_customer("Acme Corp")["id"]
    globex = stripe.add_customer("Globex", email="billing@globex.test")["id"]
    d = at(4)  # 2026-01-05
    paid = stripe.add_invoice(acme, 120000, at=d, number="INV-1001")["id"]
    stripe.pay_invoice(paid, at=at(19))
    stripe.add_invoice(acme, 80050, at=d, number="INV-1002")  # Xero has a payment on it
    stripe.add_invoice(globex, 30000, at=d, number="INV-1003")  # credited in Xero
    stripe.add_invoice(globex, 9999, at=d, number="INV-1004")  # voided in Xero
    stripe.add_invoice(globex, 450001, at=d, number="INV-1005")  # 9 cents apart
    stripe.add_invoice(globex, 25000, at=d, number="INV-1006")  # written off in Xero
    stripe.add_invoice(acme, 1000, at=d, number="INV-2001")  # not in Xero


def xero_world(fake: FakeXero) -> World:
    w = build_world(fake)
    bad = fake.add_invoice(w.globex, "250.00", on=date(2026, 1, 5), number="INV-1006")
    fake.add_credit(
        "CreditNotes", w.globex, "250.00", on=date(2026, 1, 25), allocate={bad: "250.00"},
        reference="Bad debt write-off: liquidated",
    )  # fmt: skip
    return w


def test_reconcile_finds_each_kind_of_difference_with_stripe(
    both: ToolDeps, fake: FakeXero, stripe: FakeStripe, capsys: pytest.CaptureFixture[str]
) -> None:
    w = xero_world(fake)
    stripe_world(stripe)
    sync(both)
    stripe_sync(both)
    assert main(["reconcile", "--as-of", "2026-01-31", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["sources"] == {"stripe": {"ar_total": "5960.50"}, "xero": {"ar_total": "4900.35"}}
    kinds = {(d["kind"], d["number"]) for d in got["differences"]}
    assert kinds == {
        ("amount_differs", "INV-1002"),  # a payment Stripe lacks
        ("status_differs", "INV-1003"),  # paid by a credit note in Xero
        ("status_differs", "INV-1004"),  # void in Xero
        ("amount_differs", "INV-1005"),
        ("status_differs", "INV-1006"),  # written off in Xero only
        ("missing", "INV-2001"),
    }
    assert got["totals"] == {
        "missing": 1,
        "amount_differs": 2,
        "status_differs": 3,
        "bank_not_in_books": 0,
    }
    by_number = {d["number"]: d["sources"] for d in got["differences"]}
    assert by_number["INV-1006"]["xero"]["status"] == "written_off"
    assert by_number["INV-1004"]["xero"] == {
        "id": w.voided, "total": "99.99", "open": "0.00", "status": "void"
    }  # fmt: skip
    assert by_number["INV-2001"]["xero"] is None
    assert by_number["INV-1002"]["xero"]["open"] == "400.25"
    assert by_number["INV-1002"]["stripe"]["open"] == "800.50"


def test_bot_answers_does_stripe_match_xero(
    both: ToolDeps, fake: FakeXero, stripe: FakeStripe, capsys: pytest.CaptureFixture[str]
) -> None:
    xero_world(fake)
    stripe_world(stripe)
    sync(both)
    stripe_sync(both)
    assert main(["ask", "--json", "does Stripe match Xero as of Jan 31 2026?"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["answered_by"] == "router" and answer["tool"] == "reconcile"
    assert answer["data"]["totals"] == {
        "missing": 1,
        "amount_differs": 2,
        "status_differs": 3,
        "bank_not_in_books": 0,
    }
    lines = answer["text"].splitlines()
    assert lines[0].startswith("stripe and xero differ as of 2026-01-31")
    assert "AR in stripe USD 5,960.50" in lines[1] and "AR in xero USD 4,900.35" in lines[1]


def test_xero_against_a_csv_export_in_balance_then_not(
    xdeps: ToolDeps, fake: FakeXero, tmp_path: Path
) -> None:
    acme = fake.add_contact("Acme")
    fake.add_invoice(acme, "100.00", on=date(2026, 1, 5), number="7")
    sync(xdeps)
    files = write_csvs(
        tmp_path / "x",
        customers=[customer("A", name="Acme")],
        invoices=[invoice("i7", "100.00", "2026-01-05", "2026-02-04", customer_id="A", number="7")],
    )
    import_directory(xdeps.engine, files, tz=xdeps.settings.tz)
    args = ReconcileInput(as_of=date(2026, 1, 31), sources=["xero", "csv"])
    assert reconcile(xdeps, args).in_balance
    fake.add_invoice(acme, "40.00", on=date(2026, 1, 6), number="8")
    sync(xdeps)
    found = reconcile(xdeps, args)
    assert [(d.kind, d.number) for d in found.differences] == [("missing", "8")]
    assert found.ar_minor == {"xero": 14000, "csv": 10000}
