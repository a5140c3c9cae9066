"""An applied bank receipt on a Xero invoice is recorded in Xero as a payment into the bank
account, once, through a retried request; a part payment leaves the rest due; a failure is on
the action's audit row and card and the outbox retries it; a receipt on an invoice Xero does
not hold writes nothing to Xero. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr
from slack_sdk import WebClient
from sqlalchemy import select

from bot.blocks.cash import line_text
from bot.cards import card_notifier
from bot.cash_cards import post_cash_cards
from bot.cli import main
from bot.render.proposal import status_line
from db.bank_models import BankTxn
from db.models import Action, AuditLog, Invoice, Payment
from tests.cash.statements import Line, csv_text
from tests.fakes.slack_api import FakeSlack
from tests.fakes.xero_api import BANK_ACCOUNT_CODE, FakeXero, Recorded
from tests.ledger_files import customer, invoice, write_csvs
from tests.xero.conftest import World, build_world, sync
from tools import actions
from tools.actions import ActionInfo
from tools.cash_apply import apply
from tools.cash_lines import shown_lines
from tools.cash_match import Allocation
from tools.csv_import import import_directory
from tools.deps import ToolDeps
from tools.ledger_record import relink
from tools.metrics import MetricsInput
from tools.outbox import Outbox
from tools.report import ar_report

AS_OF = date(2026, 1, 31)


def with_bank(deps: ToolDeps, code: str | None = BANK_ACCOUNT_CODE) -> ToolDeps:
    settings = deps.settings.model_copy(update={"xero_bank_account_code": code})
    return ToolDeps(settings=settings, engine=deps.engine, sessions=deps.sessions)


def synced(
    xdeps: ToolDeps, fake: FakeXero, code: str | None = BANK_ACCOUNT_CODE
) -> tuple[ToolDeps, World]:
    """The Xero books of build_world read into the ledger, with the bank account set."""
    w = build_world(fake)
    deps = with_bank(xdeps, code)
    sync(deps)
    return deps, w


def receive(deps: ToolDeps, tmp_path: Path, amount: str, number: str, minor: int) -> int:
    """A bank line of `amount` from Globex, applied by a person to invoice `number` for
    `minor`; the bank line's id."""
    statement = tmp_path / f"stmt-{number}-{minor}.csv"
    statement.write_text(
        csv_text([Line(f"W{minor}", date(2026, 1, 28), amount, payer="Globex", remittance=number)])
    )
    assert main(["bank", "import", str(statement)]) == 0
    with deps.sessions() as s:
        txn_id = s.scalars(select(BankTxn.id).where(BankTxn.external_id == f"W{minor}")).one()
        inv = s.scalars(select(Invoice).where(Invoice.number == number)).one()
        invoice_id, customer_id = inv.id, inv.customer_id
    apply(deps, txn_id, "U_FIN", allocations=[Allocation(invoice_id, minor)],
          customer_id=customer_id)  # fmt: skip
    return txn_id


def cash_card(deps: ToolDeps, txn_id: int) -> str:
    """The bank line as its cash card shows it."""
    return line_text(shown_lines(deps, [txn_id])[0])


def unbooked(capsys: pytest.CaptureFixture[str]) -> int:
    """How many applied bank receipts `arbot reconcile` finds missing from the books."""
    capsys.readouterr()
    assert main(["reconcile", "--as-of", AS_OF.isoformat(), "--json"]) == 0
    return int(json.loads(capsys.readouterr().out)["totals"]["bank_not_in_books"])


def payment_calls(fake: FakeXero) -> list[Recorded]:
    writes = [r for r in fake.requests if r.method in ("PUT", "POST")]
    return [r for r in writes if r.path.endswith("/Payments")]


def new_payments(fake: FakeXero, w: World) -> list[dict[str, object]]:
    return [p for p in fake.objects["Payments"].values() if p["Invoice"]["InvoiceID"] == w.open_]


def the_action(deps: ToolDeps) -> ActionInfo:
    with deps.sessions() as s:
        ids = s.scalars(select(Action.id).where(Action.kind == "books_payment")).all()
    assert len(ids) == 1
    return actions.load(deps, ids[0])


def events(deps: ToolDeps, action_id: int) -> list[tuple[str, dict[str, object]]]:
    with deps.sessions() as s:
        rows = s.scalars(
            select(AuditLog)
            .where(AuditLog.entity == "action", AuditLog.entity_id == str(action_id))
            .order_by(AuditLog.id)
        ).all()
        return [(r.event, dict(r.after or {})) for r in rows]


def test_applied_receipt_reaches_xero_once_through_a_retried_request(
    xdeps: ToolDeps, fake: FakeXero, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deps, w = synced(xdeps, fake)
    before = ar_report(deps, MetricsInput(as_of=AS_OF)).ar_total_minor
    txn_id = receive(deps, tmp_path, "4500.10", "INV-1005", 450010)
    assert ar_report(deps, MetricsInput(as_of=AS_OF)).ar_total_minor == before - 450010
    assert unbooked(capsys) == 1  # the bank has it, Xero not yet
    assert "Being recorded in Xero." in cash_card(deps, txn_id)

    fake.lose_answers = 1  # Xero records the payment, but its answer never arrives
    slack = FakeSlack()
    with slack:
        client = WebClient(token="xoxb-test", base_url=slack.base_url)
        post_cash_cards(client, deps, "C0APPROVALS", [txn_id])
        box = Outbox(deps, backoff_seconds=0, notify=card_notifier(client, deps))
        box.run_once()
        retrying = slack.calls("chat.update")[-1].all_text
        box.run_once()
        redrawn = slack.calls("chat.update")[-1].all_text
    assert "Recording in Xero, retrying: recording the payment in Xero failed" in retrying
    done = the_action(deps)
    assert done.status == "done"

    calls = payment_calls(fake)
    assert [r.method for r in calls] == ["PUT", "PUT"]
    assert len({r.headers["idempotency-key"] for r in calls}) == 1
    paid = new_payments(fake, w)
    assert len(paid) == 1
    bank_payment = str(done.payload["bank_payment"])
    assert paid[0]["Amount"] == Decimal("4500.10") and paid[0]["Status"] == "AUTHORISED"
    assert paid[0]["Reference"] == bank_payment and bank_payment.startswith("ACC-1/W450010/")
    assert paid[0]["Account"]["Code"] == BANK_ACCOUNT_CODE  # type: ignore[index]
    assert paid[0]["Date"] == "/Date(1769558400000+0000)/"  # 2026-01-28, the day it was booked
    inv = fake.objects["Invoices"][w.open_]
    assert inv["AmountDue"] == 0 and inv["AmountPaid"] == Decimal("4500.10")
    assert inv["Status"] == "PAID"

    trail = events(deps, done.id)
    assert [e for e, _ in trail] == [
        "books_payment_queued", "executing", "retry", "executing", "done",
    ]  # fmt: skip
    assert trail[0][1]["payload"]["amount_minor"] == 450010  # type: ignore[index]
    assert trail[-1][1]["xero_payment_id"] == paid[0]["PaymentID"]
    assert trail[-1][1]["xero_request_id"] == calls[0].headers["idempotency-key"]
    card = "".join(str(part) for part in status_line(done))
    assert f"recorded in Xero (payment {paid[0]['PaymentID']})" in card
    assert f"Recorded in Xero (payment {paid[0]['PaymentID']})." in redrawn

    sync(deps)  # the payment comes back: the same money, not a second payment
    assert ar_report(deps, MetricsInput(as_of=AS_OF)).ar_total_minor == before - 450010
    with deps.sessions() as s:
        invoice_id = s.scalars(select(Invoice.id).where(Invoice.external_id == w.open_)).one()
        rows = s.execute(
            select(Payment.source, Payment.amount_minor).where(Payment.invoice_id == invoice_id)
        ).all()
    assert rows == [("xero", 450010)]
    assert unbooked(capsys) == 0

    box.run_once()  # nothing left to post
    assert len(payment_calls(fake)) == 2


def test_part_payment_leaves_the_rest_due_in_xero(
    xdeps: ToolDeps, fake: FakeXero, tmp_path: Path
) -> None:
    deps, w = synced(xdeps, fake)
    receive(deps, tmp_path, "1000.00", "INV-1005", 100000)
    Outbox(deps, backoff_seconds=0).run_once()
    assert the_action(deps).status == "done"
    [paid] = new_payments(fake, w)
    assert paid["Amount"] == Decimal("1000.00")
    inv = fake.objects["Invoices"][w.open_]
    assert inv["AmountDue"] == Decimal("3500.10") and inv["AmountPaid"] == Decimal("1000.00")
    assert inv["Status"] == "AUTHORISED"
    sync(deps)
    got = ar_report(deps, MetricsInput(as_of=AS_OF))
    assert got.ar_total_minor == 40025 + 350010  # the part-paid INV-1002 and the rest of INV-1005


def test_failure_is_on_the_audit_row_and_card_and_retried(
    xdeps: ToolDeps, fake: FakeXero, tmp_path: Path
) -> None:
    deps, w = synced(xdeps, fake)
    txn_id = receive(deps, tmp_path, "4500.10", "INV-1005", 450010)
    fake.fail(500, entity="Payments")
    box = Outbox(deps, backoff_seconds=0)
    box.run_once()
    waiting = the_action(deps)
    assert waiting.status == "approved" and not new_payments(fake, w)
    retry = [after for event, after in events(deps, waiting.id) if event == "retry"]
    assert len(retry) == 1 and "Xero failed" in str(retry[0]["last_error"])
    assert "retrying: recording the payment in Xero failed" in "".join(
        str(part) for part in status_line(waiting)
    )
    assert "Recording in Xero, retrying: recording the payment in Xero failed" in cash_card(
        deps, txn_id
    )
    box.run_once()
    assert the_action(deps).status == "done"
    assert len(new_payments(fake, w)) == 1


def test_without_the_bank_account_setting_nothing_is_posted(
    xdeps: ToolDeps, fake: FakeXero, tmp_path: Path
) -> None:
    deps, _ = synced(xdeps, fake, None)
    txn_id = receive(deps, tmp_path, "4500.10", "INV-1005", 450010)
    Outbox(deps, backoff_seconds=0).run_once()
    failed = the_action(deps)
    assert failed.status == "failed"
    assert "ARBOT_XERO_BANK_ACCOUNT_CODE" in (failed.last_error or "")
    assert "but it failed" in "".join(str(part) for part in status_line(failed))
    assert "Not recorded in Xero: " in cash_card(deps, txn_id)
    assert "ARBOT_XERO_BANK_ACCOUNT_CODE" in cash_card(deps, txn_id)
    assert payment_calls(fake) == []


def test_receipt_on_an_invoice_xero_does_not_hold_writes_nothing_to_xero(
    xdeps: ToolDeps, fake: FakeXero, tmp_path: Path
) -> None:
    deps, _ = synced(xdeps, fake)
    files = write_csvs(
        tmp_path / "csv",
        customers=[customer("N", name="Initech")],
        invoices=[invoice("n1", "700.00", "2026-01-06", "2026-02-05", customer_id="N",
                          number="N-700")],
    )  # fmt: skip
    import_directory(deps.engine, files, tz=deps.settings.tz)
    receive(deps, tmp_path, "700.00", "N-700", 70000)
    with deps.sessions() as s:
        assert s.scalars(select(Action).where(Action.kind == "books_payment")).all() == []
        source = s.scalars(select(Invoice.source).where(Invoice.number == "N-700")).one()
    assert source == "csv"
    Outbox(deps, backoff_seconds=0).run_once()
    assert payment_calls(fake) == []


def test_an_outage_longer_than_five_tries_is_waited_out(
    xdeps: ToolDeps, fake: FakeXero, tmp_path: Path
) -> None:
    deps, w = synced(xdeps, fake)
    receive(deps, tmp_path, "4500.10", "INV-1005", 450010)
    fake.fail(500, times=8, entity="Payments")
    box = Outbox(deps, backoff_seconds=0)
    for _ in range(8):
        box.run_once()
    waiting = the_action(deps)
    assert waiting.status == "approved" and waiting.attempts == 8
    box.run_once()
    assert the_action(deps).status == "done"
    assert len(new_payments(fake, w)) == 1


def test_a_refused_refresh_token_waits_for_the_reconnect(
    xdeps: ToolDeps, fake: FakeXero, tmp_path: Path
) -> None:
    deps, w = synced(xdeps, fake)
    txn_id = receive(deps, tmp_path, "4500.10", "INV-1005", 450010)
    fake.refresh_token = "xero-refresh-from-the-new-consent"  # the stored one is dead
    Outbox(deps, backoff_seconds=0).run_once()
    waiting = the_action(deps)
    assert waiting.status == "approved"
    assert "connect the app again" in (waiting.last_error or "")
    assert "Recording in Xero, retrying:" in cash_card(deps, txn_id)
    settings = deps.settings.model_copy(
        update={"xero_refresh_token": SecretStr("xero-refresh-from-the-new-consent")}
    )
    reconnected = ToolDeps(settings=settings, engine=deps.engine, sessions=deps.sessions)
    Outbox(reconnected, backoff_seconds=0).run_once()
    assert the_action(deps).status == "done"
    assert len(new_payments(fake, w)) == 1


def test_a_payment_xero_holds_is_read_back_as_the_bank_receipt(
    xdeps: ToolDeps, fake: FakeXero, tmp_path: Path
) -> None:
    deps, w = synced(xdeps, fake)
    before = ar_report(deps, MetricsInput(as_of=AS_OF)).ar_total_minor
    txn_id = receive(deps, tmp_path, "4500.10", "INV-1005", 450010)
    fake.lose_answers = 1  # Xero records the payment; the answer is lost
    Outbox(deps, backoff_seconds=0).run_once()
    assert the_action(deps).status == "approved"
    sync(deps)  # before the retry: Xero's payment names the bank receipt in its Reference
    assert ar_report(deps, MetricsInput(as_of=AS_OF)).ar_total_minor == before - 450010
    with deps.sessions() as s:
        invoice_id = s.scalars(select(Invoice.id).where(Invoice.external_id == w.open_)).one()
        rows = s.execute(
            select(Payment.source, Payment.amount_minor).where(Payment.invoice_id == invoice_id)
        ).all()
    assert rows == [("xero", 450010)]
    Outbox(deps, backoff_seconds=0).run_once()  # nothing more goes to Xero: done, with it
    assert len(payment_calls(fake)) == 1 and len(new_payments(fake, w)) == 1
    [held] = new_payments(fake, w)
    done = the_action(deps)
    assert done.status == "done"
    event, after = events(deps, done.id)[-1]
    assert event == "done" and after["xero_payment_id"] == held["PaymentID"]
    card = cash_card(deps, txn_id)
    assert f"Recorded in Xero (payment {held['PaymentID']}, found there by the sync)." in card
    assert "Not recorded" not in card and "Being recorded" not in card


def test_a_failed_write_back_is_queued_again_by_the_cli(
    xdeps: ToolDeps, fake: FakeXero, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deps, w = synced(xdeps, fake, None)
    receive(deps, tmp_path, "4500.10", "INV-1005", 450010)
    Outbox(deps, backoff_seconds=0).run_once()
    failed = the_action(deps)
    assert failed.status == "failed"
    capsys.readouterr()
    assert main(["outbox", "retry", "--action", str(failed.id + 1)]) == 1
    assert main(["outbox", "retry"]) == 0
    assert "1 write-back(s) queued again" in capsys.readouterr().out
    assert the_action(deps).status == "approved"
    assert [e for e, _ in events(deps, failed.id)][-1] == "requeued"
    Outbox(with_bank(deps), backoff_seconds=0).run_once()
    assert the_action(deps).status == "done"
    assert len(new_payments(fake, w)) == 1


def test_each_statement_account_goes_to_its_xero_bank_account(
    xdeps: ToolDeps, fake: FakeXero, tmp_path: Path
) -> None:
    fake.bank_accounts["091"] = "b7d1f0d2-0000-4000-8000-000000000091"
    deps, w = synced(xdeps, fake)
    settings = deps.settings.model_copy(update={"xero_bank_accounts": ["ACC-1=091"]})
    deps = ToolDeps(settings=settings, engine=deps.engine, sessions=deps.sessions)
    receive(deps, tmp_path, "4500.10", "INV-1005", 450010)
    Outbox(deps, backoff_seconds=0).run_once()
    [paid] = new_payments(fake, w)
    assert paid["Account"]["Code"] == "091"  # type: ignore[index]


def _twin_world(
    xdeps: ToolDeps, fake: FakeXero, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tz: str
) -> tuple[ToolDeps, int, str]:
    """A receipt applied to a CSV invoice N-700 of Initech, then Xero books N-700: the
    receipt moves to Xero's row and is queued for Xero. (deps, bank line, Xero invoice)."""
    monkeypatch.setenv("ARBOT_TIMEZONE", tz)
    deps, _ = synced(xdeps, fake)
    settings = deps.settings.model_copy(update={"timezone": tz})
    deps = ToolDeps(settings=settings, engine=deps.engine, sessions=deps.sessions)
    files = write_csvs(
        tmp_path / "csv",
        customers=[customer("N", name="Initech")],
        invoices=[invoice("n1", "700.00", "2026-01-06", "2026-02-05", customer_id="N",
                          number="N-700")],
    )  # fmt: skip
    import_directory(deps.engine, files, tz=deps.settings.tz)
    txn_id = receive(deps, tmp_path, "700.00", "N-700", 70000)
    initech = fake.add_contact("Initech")
    books_id = fake.add_invoice(initech, "700.00", on=date(2026, 1, 6), number="N-700")
    sync(deps)
    return deps, txn_id, books_id


def test_a_moved_receipt_is_posted_on_its_booking_day_east_of_utc(
    xdeps: ToolDeps, fake: FakeXero, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deps, txn_id, books_id = _twin_world(xdeps, fake, tmp_path, monkeypatch, "Pacific/Auckland")
    queued = the_action(deps)
    assert queued.payload["paid_on"] == "2026-01-28"
    assert "Being recorded in Xero." in cash_card(deps, txn_id)
    Outbox(deps, backoff_seconds=0).run_once()
    [paid] = [p for p in fake.objects["Payments"].values()
              if p["Invoice"]["InvoiceID"] == books_id]  # fmt: skip
    assert paid["Date"] == "/Date(1769558400000+0000)/"  # 2026-01-28
    assert the_action(deps).status == "done"


def test_a_write_back_is_cancelled_when_its_receipt_moves_to_another_source(
    xdeps: ToolDeps, fake: FakeXero, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deps, txn_id = synced(xdeps, fake)[0], 0
    txn_id = receive(deps, tmp_path, "4500.10", "INV-1005", 450010)
    assert the_action(deps).status == "approved"
    # The CSV export becomes the ledger of record and holds INV-1005 too.
    monkeypatch.setenv("ARBOT_LEDGER_OF_RECORD", "csv")
    settings = deps.settings.model_copy(update={"ledger_of_record": "csv"})
    deps = ToolDeps(settings=settings, engine=deps.engine, sessions=deps.sessions)
    with deps.sessions() as s:
        inv = s.scalars(select(Invoice).where(Invoice.number == "INV-1005")).one()
        total, issued = inv.total_minor, inv.issued_at
    files = write_csvs(
        tmp_path / "csv",
        customers=[customer("G", name="Globex")],
        invoices=[invoice("g5", f"{total / 100:.2f}", issued.date().isoformat(),
                          "2026-03-01", customer_id="G", number="INV-1005")],
    )  # fmt: skip
    import_directory(deps.engine, files, tz=deps.settings.tz)
    relink(deps.engine, deps.settings)
    with deps.sessions() as s:
        on = s.execute(
            select(Invoice.source).join(Payment, Payment.invoice_id == Invoice.id)
            .where(Payment.source == "bank")
        ).scalars().all()  # fmt: skip
    assert on == ["csv"]
    Outbox(deps, backoff_seconds=0).run_once()
    assert payment_calls(fake) == []
    cancelled = the_action(deps)
    assert cancelled.status == "cancelled"
    assert [e for e, _ in events(deps, cancelled.id)][-1] == "cancelled"
    assert "Not recorded in Xero: Cancelled before execution" in cash_card(deps, txn_id)
