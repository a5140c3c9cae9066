"""An approved write-off of a QuickBooks invoice reaches QuickBooks once, as a bad-debt credit
memo applied to the invoice, even when the first answer is lost and the outbox retries."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from db.models import AuditLog, CreditNote, Invoice
from tests.approvals.conftest import APPROVER, COLLECTOR
from tests.fakes.quickbooks_api import FakeQuickBooks
from tests.quickbooks.conftest import build_world, sync
from tools import actions
from tools.deps import ToolDeps
from tools.metrics import MetricsInput
from tools.outbox import Outbox
from tools.report import ar_report
from tools.write_off import WriteOffInput, propose_write_off

BAD_DEBT_ITEM = "21"


def with_approvals(deps: ToolDeps) -> ToolDeps:
    settings = deps.settings.model_copy(
        update={
            "approvers": [APPROVER, COLLECTOR],
            "finance_users": [APPROVER, COLLECTOR],
            "quickbooks_bad_debt_item_id": BAD_DEBT_ITEM,
        }
    )
    return ToolDeps(settings=settings, engine=deps.engine, sessions=deps.sessions)


def test_write_off_posted_once_through_a_retried_request(
    qdeps: ToolDeps, fake: FakeQuickBooks
) -> None:
    w = build_world(fake)
    sync(qdeps)
    deps = with_approvals(qdeps)
    today = actions.now_utc().date()
    before = ar_report(deps, MetricsInput(as_of=today, period_days=365))
    proposed = propose_write_off(
        deps,
        WriteOffInput(invoice="1005", reason="Globex is in liquidation", requested_by=COLLECTOR),
    )
    actions.approve(deps, proposed.id, APPROVER)

    fake.lose_answers = 1  # QuickBooks creates the memo, but its answer never arrives
    box = Outbox(deps, backoff_seconds=0)
    box.run_once()
    first = actions.load(deps, proposed.id)
    assert first.status == "approved" and "QuickBooks failed" in (first.last_error or "")
    box.run_once()
    assert actions.load(deps, proposed.id).status == "done"

    memos = [m for m in fake.objects["CreditMemo"].values() if m["Id"] != w.memo]
    assert len(memos) == 1
    assert memos[0]["TotalAmt"] == 4500.1 and memos[0]["RemainingCredit"] == 0
    assert memos[0]["PrivateNote"].startswith("Bad debt write-off of invoice")
    appliers = [
        p
        for p in fake.objects["Payment"].values()
        if any(link["TxnId"] == memos[0]["Id"] for line in p["Line"] for link in line["LinkedTxn"])
    ]
    assert len(appliers) == 1 and appliers[0]["TotalAmt"] == 0
    assert fake.objects["Invoice"][w.open_]["Balance"] == 0
    posts = [r for r in fake.requests if r.path.endswith("/creditmemo")]
    assert len(posts) == 2 and len({r.query["requestid"] for r in posts}) == 1
    # The request ids come from a random id kept with the action, not from its number.
    request_id = actions.load(deps, proposed.id).payload["request_id"]
    assert posts[0].query["requestid"] == f"arbot-{request_id}-memo"

    with deps.sessions() as s:
        audit = s.scalars(
            select(AuditLog).where(AuditLog.entity_id == str(proposed.id), AuditLog.event == "done")
        ).one()
        assert audit.after is not None
        assert audit.after["quickbooks_credit_memo_id"] == memos[0]["Id"]
        inv = s.scalars(select(Invoice).where(Invoice.external_id == w.open_)).one()
        stamped = inv.written_off_at
    assert stamped is not None
    after = ar_report(deps, MetricsInput(as_of=today, period_days=365))
    assert before.ar_total_minor - after.ar_total_minor == 450010

    # Reading the books back: the memo is the same write-off, not a second reduction.
    sync(deps)
    again = ar_report(deps, MetricsInput(as_of=today, period_days=365))
    assert again.ar_total_minor == after.ar_total_minor
    assert again.written_off_minor == after.written_off_minor == 450010
    with deps.sessions() as s:
        inv = s.scalars(select(Invoice).where(Invoice.external_id == w.open_)).one()
        assert inv.written_off_at == stamped
        notes = s.scalars(select(CreditNote).where(CreditNote.invoice_id == inv.id)).all()
        assert notes == []


def test_write_off_made_in_quickbooks_is_read_as_a_write_off(
    qdeps: ToolDeps, fake: FakeQuickBooks
) -> None:
    w = build_world(fake)
    memo = fake.add_credit_memo(w.globex, "4500.10", txn_date=date(2026, 1, 25))
    fake.update("CreditMemo", memo, PrivateNote="Bad debt write-off: closed account")
    fake.add_payment(
        w.globex,
        "0",
        txn_date=date(2026, 1, 26),
        invoices={w.open_: "4500.10"},
        credits={memo: "4500.10"},
    )
    sync(qdeps)
    got = ar_report(qdeps, MetricsInput(as_of=date(2026, 1, 31), period_days=90))
    assert got.written_off_minor == 450010
    assert got.ar_total_minor == 40025  # the part-paid invoice alone
