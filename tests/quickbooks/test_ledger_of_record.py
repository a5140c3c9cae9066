"""One AR of record: the same invoices synced from Stripe and QuickBooks and imported from a CSV
export count once in AR, aging, DSO, the digest and the CSV export, each of which says which
source it counts; changing ARBOT_LEDGER_OF_RECORD changes the source counted. SQLite and
PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.blocks.digest import digest_blocks, digest_csv
from bot.blocks.ids import RowsRequest
from bot.cli import main
from bot.rows import rows_csv
from tests.fakes.quickbooks_api import FakeQuickBooks
from tests.fakes.stripe_api import API_KEY, FakeStripe
from tests.ledger_files import customer, invoice, payment, write_csvs
from tests.quickbooks.conftest import sync
from tests.stripe.conftest import at
from tests.stripe.conftest import sync as stripe_sync
from tools.csv_import import import_directory
from tools.deps import ToolDeps
from tools.digest import DigestInput, weekly_digest
from tools.ledger_record import relink
from tools.reconcile import ReconcileInput, reconcile

AS_OF = "2026-01-31"


@pytest.fixture
def stripe_fake() -> Iterator[FakeStripe]:
    with FakeStripe() as f:
        yield f


@pytest.fixture
def both(qdeps: ToolDeps, stripe_fake: FakeStripe, monkeypatch: pytest.MonkeyPatch) -> ToolDeps:
    monkeypatch.setenv("STRIPE_API_KEY", API_KEY)
    monkeypatch.setenv("ARBOT_STRIPE_API_BASE", stripe_fake.url)
    update = {"stripe_api_key": SecretStr(API_KEY), "stripe_api_base": stripe_fake.url}
    return ToolDeps(
        settings=qdeps.settings.model_copy(update=update),
        engine=qdeps.engine,
        sessions=qdeps.sessions,
    )


def _ledger(deps: ToolDeps, qbo: FakeQuickBooks, stripe: FakeStripe, tmp_path: Path) -> None:
    """Three invoices of Acme Corp, all issued in January 2026 and due 2026-02-04:

    - INV-1, USD 1,000.00, carries its number everywhere; QuickBooks has 400.00 paid on it,
      the CSV export 100.00, Stripe nothing;
    - USD 500.00 of 2026-01-10: numbered INV-2 in Stripe, 1002 in QuickBooks, no number in
      the CSV: linked by customer + amount + date;
    - INV-3, USD 250.00, only in Stripe (the books have not caught up).
    """
    acme = qbo.add_customer("Acme Corp")
    q1 = qbo.add_invoice(acme, "1000.00", txn_date=date(2026, 1, 5), number="INV-1")
    qbo.add_invoice(acme, "500.00", txn_date=date(2026, 1, 10), number="1002")
    qbo.add_payment(acme, "400.00", txn_date=date(2026, 1, 20), invoices={q1: "400.00"})
    cus = stripe.add_customer("Acme Corp", at=at(0))["id"]
    stripe.add_invoice(cus, 100_000, at=at(4), number="INV-1")
    stripe.add_invoice(cus, 50_000, at=at(9), due_date=at(34), number="INV-2")
    stripe.add_invoice(cus, 25_000, at=at(4), number="INV-3")
    files = write_csvs(
        tmp_path / "export",
        customers=[customer("A", name="ACME CORP.")],
        invoices=[
            invoice("c1", "1000.00", "2026-01-05", "2026-02-04", customer_id="A", number="INV-1"),
            invoice("c2", "500.00", "2026-01-10", "2026-02-04", customer_id="A", number=""),
        ],
        payments=[payment("p1", "c1", "100.00", "2026-01-21", customer_id="A")],
    )
    import_directory(deps.engine, files, tz=deps.settings.tz)
    stripe_sync(deps)
    sync(deps)


def _report(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["report", "--as-of", AS_OF, "--json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def _report_text(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["report", "--as-of", AS_OF]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize(
    ("record", "ar", "source"),
    [
        # QuickBooks is the default once it holds invoices: 600 + 500 + Stripe's own 250.
        (None, "1350.00", "Source: QuickBooks + Stripe"),
        ("stripe", "1750.00", "Source: Stripe"),
        ("csv", "1650.00", "Source: CSV + Stripe"),
    ],
)
def test_the_same_invoices_from_three_sources_count_once(
    both: ToolDeps,
    fake: FakeQuickBooks,
    stripe_fake: FakeStripe,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    record: str | None,
    ar: str,
    source: str,
) -> None:
    _ledger(both, fake, stripe_fake, tmp_path)
    if record:
        monkeypatch.setenv("ARBOT_LEDGER_OF_RECORD", record)
        assert main(["db", "relink"]) == 0
        assert source in capsys.readouterr().out
    capsys.readouterr()

    got = _report(capsys)
    assert got["ar_total"] == ar
    assert got["aging"] == {"current": ar, "1-30": "0.00", "31-60": "0.00", "61-90": "0.00",
                            "90+": "0.00"}  # fmt: skip
    assert got["credit_sales"] == "1750.00"  # each invoice's total once, whatever the source
    expected_dso = (Decimal(ar) / Decimal("1750.00") * 90).quantize(Decimal("0.01"))
    assert Decimal(str(got["dso"])).quantize(Decimal("0.01")) == expected_dso
    assert source in _report_text(capsys)

    assert main(["ask", f"what was our AR on {AS_OF}?"]) == 0
    answer = capsys.readouterr().out
    assert f"USD {Decimal(ar):,.2f}" in answer and source in answer

    digest = weekly_digest(both, DigestInput(as_of=date(2026, 2, 1)))
    assert f"{digest.metrics.ar_total_minor / 100:.2f}" == ar
    assert digest.metrics.source == source
    assert source in json.dumps([b.to_dict() for b in digest_blocks(digest)])
    rows = list(csv.reader(io.StringIO(digest_csv(digest).decode())))
    assert ["ar", "ar_total", ar, "USD"] in rows and ["ar", "source", source, ""] in rows

    _, data, count = rows_csv(both, RowsRequest(kind="open_invoices", as_of=date(2026, 1, 31)))
    listed = list(csv.DictReader(io.StringIO(data.decode())))
    assert count == 3 and {r["source"] for r in listed} == {source}
    assert sum(Decimal(r["open_amount"]) for r in listed) == Decimal(ar)

    # Reconciliation still compares every source as it reports its invoices.
    compared = reconcile(both, ReconcileInput(as_of=date(2026, 1, 31)))
    assert compared.ar_minor == {"csv": 140000, "quickbooks": 110000, "stripe": 175000}


def test_switching_the_setting_moves_the_figures_and_back(
    both: ToolDeps,
    fake: FakeQuickBooks,
    stripe_fake: FakeStripe,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _ledger(both, fake, stripe_fake, tmp_path)
    capsys.readouterr()
    assert _report(capsys)["ar_total"] == "1350.00"  # cached under this ledger version
    to_stripe = both.settings.model_copy(update={"ledger_of_record": "stripe"})
    assert relink(both.engine, to_stripe) == 4  # two rows of Stripe, two of the books
    assert relink(both.engine, to_stripe) == 0
    assert relink(both.engine, both.settings) == 4
    assert _report(capsys)["ar_total"] == "1350.00"
    # the setting changed and nobody ran `arbot db relink`: the next command derives the links
    monkeypatch.setenv("ARBOT_LEDGER_OF_RECORD", "stripe")
    assert _report(capsys)["ar_total"] == "1750.00"
    assert relink(both.engine, to_stripe) == 0
    monkeypatch.delenv("ARBOT_LEDGER_OF_RECORD")
    assert _report(capsys)["ar_total"] == "1350.00"
