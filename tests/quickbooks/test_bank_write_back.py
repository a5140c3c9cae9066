"""An applied bank receipt on a QuickBooks invoice: reconciliation reports it as not in the
books until it is written back; the outbox records it in QuickBooks as a Payment linked to the
invoice, once, through a retried request; the next sync reads that Payment as the same money
(AR moves once), and reconciliation is in balance. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.blocks.cash import line_text
from bot.cli import main
from db.bank_models import BankTxn
from db.models import Action, AuditLog, Invoice, Payment
from tests.cash.statements import Line, csv_text
from tests.fakes.quickbooks_api import FakeQuickBooks
from tests.quickbooks.conftest import build_world, sync
from tools.cash_apply import apply
from tools.cash_lines import shown_lines
from tools.cash_match import Allocation
from tools.deps import ToolDeps
from tools.metrics import MetricsInput
from tools.outbox import Outbox
from tools.reconcile import ReconcileInput, reconcile
from tools.report import ar_report

AS_OF = date(2026, 1, 31)


def _reconcile(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["reconcile", "--as-of", AS_OF.isoformat(), "--json"]) == 0
    return dict(json.loads(capsys.readouterr().out))


def test_applied_receipt_reaches_quickbooks_once_and_then_balances(
    qdeps: ToolDeps, fake: FakeQuickBooks, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = build_world(fake)
    sync(qdeps)
    statement = tmp_path / "stmt.csv"
    statement.write_text(
        csv_text([Line("W1", date(2026, 1, 28), "4500.10", payer="Globex", remittance="1005")])
    )
    assert main(["bank", "import", str(statement)]) == 0
    capsys.readouterr()
    with qdeps.sessions() as s:
        txn_id = s.scalars(select(BankTxn.id)).one()
        inv = s.scalars(select(Invoice).where(Invoice.external_id == w.open_)).one()
        invoice_id, customer_id = inv.id, inv.customer_id
    before = ar_report(qdeps, MetricsInput(as_of=AS_OF)).ar_total_minor
    apply(qdeps, txn_id, "U_FIN", allocations=[Allocation(invoice_id, 450010)],
          customer_id=customer_id)  # fmt: skip
    assert ar_report(qdeps, MetricsInput(as_of=AS_OF)).ar_total_minor == before - 450010

    got = _reconcile(capsys)
    unbooked = [d for d in got["differences"] if d["kind"] == "bank_not_in_books"]  # type: ignore[attr-defined]
    assert [d["number"] for d in unbooked] == ["1005"]
    assert unbooked[0]["sources"]["quickbooks"]["open"] == "0.00"
    assert got["totals"]["bank_not_in_books"] == 1  # type: ignore[index]
    rows = reconcile(qdeps, ReconcileInput(as_of=AS_OF)).csv_rows()
    assert ["bank_not_in_books", "1005", "quickbooks", w.open_, "4500.10", "0.00", "paid"] in rows

    fake.lose_answers = 1  # QuickBooks records the Payment, but its answer never arrives
    box = Outbox(qdeps, backoff_seconds=0)
    box.run_once()
    box.run_once()
    posts = [r for r in fake.requests if r.path.endswith("/payment")]
    assert len(posts) == 2 and len({r.query["requestid"] for r in posts}) == 1
    assert all(r.status == 200 for r in posts[1:])  # QuickBooks takes ids of up to 50 characters
    linked = [
        p for p in fake.objects["Payment"].values()
        if any(link["TxnId"] == w.open_ for line in p["Line"] for link in line["LinkedTxn"])
    ]  # fmt: skip
    assert len(linked) == 1 and linked[0]["TotalAmt"] == 4500.1
    assert fake.objects["Invoice"][w.open_]["Balance"] == 0
    with qdeps.sessions() as s:
        events = {
            a.event: a.after for a in s.scalars(select(AuditLog).where(AuditLog.entity == "action"))
        }
    assert events["books_payment_queued"]["payload"]["amount_minor"] == 450010  # type: ignore[index]
    assert events["done"]["quickbooks_payment_id"] == linked[0]["Id"]  # type: ignore[index]

    sync(qdeps)  # the Payment comes back: the same money, not a second payment
    assert ar_report(qdeps, MetricsInput(as_of=AS_OF)).ar_total_minor == before - 450010
    with qdeps.sessions() as s:
        paid = s.execute(
            select(Payment.source, Payment.amount_minor).where(Payment.invoice_id == invoice_id)
        ).all()
    assert paid == [("quickbooks", 450010)]
    assert _reconcile(capsys)["totals"]["bank_not_in_books"] == 0  # type: ignore[index]

    box.run_once()  # nothing left to post
    assert len([r for r in fake.requests if r.path.endswith("/payment")]) == 2


def _applied(qdeps: ToolDeps, fake: FakeQuickBooks, tmp_path: Path) -> tuple[str, int, int]:
    """Globex's 4,500.10 applied to QuickBooks invoice 1005: (its id, ledger id, AR before)."""
    w = build_world(fake)
    sync(qdeps)
    statement = tmp_path / "stmt.csv"
    statement.write_text(
        csv_text([Line("W1", date(2026, 1, 28), "4500.10", payer="Globex", remittance="1005")])
    )
    assert main(["bank", "import", str(statement)]) == 0
    with qdeps.sessions() as s:
        txn_id = s.scalars(select(BankTxn.id)).one()
        inv = s.scalars(select(Invoice).where(Invoice.external_id == w.open_)).one()
        invoice_id, customer_id = inv.id, inv.customer_id
    before = ar_report(qdeps, MetricsInput(as_of=AS_OF)).ar_total_minor
    apply(qdeps, txn_id, "U_FIN", allocations=[Allocation(invoice_id, 450010)],
          customer_id=customer_id)  # fmt: skip
    return w.open_, invoice_id, before


def _status(qdeps: ToolDeps) -> tuple[str, str | None]:
    with qdeps.sessions() as s:
        a = s.scalars(select(Action).where(Action.kind == "books_payment")).one()
        return a.status, a.last_error


def test_a_payment_quickbooks_holds_is_read_back_as_the_bank_receipt(
    qdeps: ToolDeps, fake: FakeQuickBooks, tmp_path: Path
) -> None:
    _, invoice_id, before = _applied(qdeps, fake, tmp_path)
    fake.lose_answers = 1  # QuickBooks records the Payment; the answer is lost
    box = Outbox(qdeps, backoff_seconds=0)
    box.run_once()
    assert _status(qdeps)[0] == "approved"
    sync(qdeps)  # before the retry: the Payment's PrivateNote names the bank receipt
    assert ar_report(qdeps, MetricsInput(as_of=AS_OF)).ar_total_minor == before - 450010
    with qdeps.sessions() as s:
        paid = s.execute(
            select(Payment.source, Payment.amount_minor).where(Payment.invoice_id == invoice_id)
        ).all()
    assert paid == [("quickbooks", 450010)]
    box.run_once()  # nothing more goes to QuickBooks: the write-back is done, with that Payment
    assert len([r for r in fake.requests if r.path.endswith("/payment")]) == 1
    [held] = [p for p in fake.objects["Payment"].values() if p.get("PrivateNote")]
    assert _status(qdeps)[0] == "done"
    with qdeps.sessions() as s:
        action = s.scalars(select(Action).where(Action.kind == "books_payment")).one()
        mine = (AuditLog.entity == "action", AuditLog.entity_id == str(action.id))
        last = s.scalars(select(AuditLog).where(*mine).order_by(AuditLog.id.desc())).first()
        assert last is not None and last.event == "done"
        assert last.after["quickbooks_payment_id"] == held["Id"]  # type: ignore[index]
        assert action.decision_note == (
            f"recorded in QuickBooks (payment {held['Id']}, found there by the sync)"
        )
        txn_id = s.scalars(select(BankTxn.id)).one()
    card = line_text(shown_lines(qdeps, [txn_id])[0])
    assert f"Recorded in QuickBooks (payment {held['Id']}, found there by the sync)." in card
    assert "Not recorded" not in card


def test_a_refused_refresh_token_waits_for_the_reconnect(
    qdeps: ToolDeps, fake: FakeQuickBooks, tmp_path: Path
) -> None:
    open_, _, _ = _applied(qdeps, fake, tmp_path)
    fake.refresh_token = "AB11fromthenewconsent"  # the stored one is dead
    Outbox(qdeps, backoff_seconds=0).run_once()
    status, error = _status(qdeps)
    assert status == "approved" and "connect the app again" in (error or "")
    settings = qdeps.settings.model_copy(
        update={"quickbooks_refresh_token": SecretStr("AB11fromthenewconsent")}
    )
    reconnected = ToolDeps(settings=settings, engine=qdeps.engine, sessions=qdeps.sessions)
    Outbox(reconnected, backoff_seconds=0).run_once()
    assert _status(qdeps)[0] == "done"
    assert fake.objects["Invoice"][open_]["Balance"] == 0


def _receive(qdeps: ToolDeps, tmp_path: Path, account: str, amount: str, number: str) -> int:
    """A line of statement account `account` applied to QuickBooks invoice `number` in full;
    the bank line's id."""
    statement = tmp_path / f"{account}.csv"
    payer = "Globex" if number == "1005" else "Acme Corp"
    statement.write_text(
        csv_text([Line(f"{account}-1", date(2026, 1, 28), amount, payer=payer,
                       remittance=number)], account=account)
    )  # fmt: skip
    assert main(["bank", "import", str(statement)]) == 0
    with qdeps.sessions() as s:
        txn_id = s.scalars(select(BankTxn.id).where(BankTxn.account == account)).one()
        inv = s.scalars(select(Invoice).where(Invoice.number == number)).one()
        minor, customer_id, invoice_id = int(amount.replace(".", "")), inv.customer_id, inv.id
    apply(qdeps, txn_id, "U_FIN", allocations=[Allocation(invoice_id, minor)],
          customer_id=customer_id)  # fmt: skip
    return txn_id


def test_each_statement_account_is_deposited_to_its_quickbooks_account(
    qdeps: ToolDeps, fake: FakeQuickBooks, tmp_path: Path
) -> None:
    w = build_world(fake)
    settings = qdeps.settings.model_copy(update={"quickbooks_deposit_accounts": ["ACC-1=35"]})
    deps = ToolDeps(settings=settings, engine=qdeps.engine, sessions=qdeps.sessions)
    sync(deps)
    mapped = _receive(deps, tmp_path, "ACC-1", "4500.10", "1005")
    unmapped = _receive(deps, tmp_path, "ACC-2", "400.25", "1002")
    Outbox(deps, backoff_seconds=0).run_once()

    posts = {
        json.loads(r.body)["Line"][0]["LinkedTxn"][0]["TxnId"]: json.loads(r.body)
        for r in fake.requests
        if r.path.endswith("/payment")
    }
    assert posts[w.open_]["DepositToAccountRef"] == {"value": "35"}
    assert "DepositToAccountRef" not in posts[w.part]  # QuickBooks' default applies
    paid = {
        p["Line"][0]["LinkedTxn"][0]["TxnId"]: p["DepositToAccountRef"]["value"]
        for p in fake.objects["Payment"].values()
        if p.get("PrivateNote")
    }
    assert paid == {w.open_: "35", w.part: "4"}  # Checking; Undeposited Funds
    cards = {t: line_text(shown_lines(deps, [t])[0]) for t in (mapped, unmapped)}
    assert "deposited to Checking (account 35))." in cards[mapped]
    assert (
        "in Undeposited Funds, QuickBooks' default, as no deposit account is set for statement "
        "account ACC-2 in ARBOT_QUICKBOOKS_DEPOSIT_ACCOUNTS)." in cards[unmapped]
    )


def test_a_deposit_account_quickbooks_refuses_fails_with_its_answer_on_the_card(
    qdeps: ToolDeps, fake: FakeQuickBooks, tmp_path: Path
) -> None:
    build_world(fake)
    settings = qdeps.settings.model_copy(update={"quickbooks_deposit_account_id": "1"})
    deps = ToolDeps(settings=settings, engine=qdeps.engine, sessions=qdeps.sessions)
    sync(deps)
    txn_id = _receive(deps, tmp_path, "ACC-1", "4500.10", "1005")
    Outbox(deps, backoff_seconds=0).run_once()  # an Income account takes no deposit
    status, error = _status(deps)
    assert status == "failed" and "Invalid Reference Id" in (error or "")
    assert "Not recorded in QuickBooks: " in line_text(shown_lines(deps, [txn_id])[0])
    assert not [p for p in fake.objects["Payment"].values() if p.get("PrivateNote")]
