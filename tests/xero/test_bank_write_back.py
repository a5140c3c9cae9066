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
