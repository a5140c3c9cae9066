"""The digest's cash line: received in the week, applied automatically, by hand, still waiting."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from slack_sdk import WebClient
from sqlalchemy import select

from db.bank_models import BankTxn
from jobs.runner import run_job
from tests.cash.statements import Line, csv_text
from tests.fakes.slack_api import FakeSlack
from tests.jobs.ledger import MONDAY
from tools.bank_import import import_statements
from tools.cash_apply import apply, auto_apply
from tools.deps import ToolDeps


def test_digest_says_what_cash_came_in_and_where_it_went(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient, tmp_path: Path
) -> None:
    lines = [
        Line("W0", date(2026, 11, 10), "100.00", payer="Someone", remittance=""),
        Line("W1", date(2026, 11, 17), "7000.00", payer="Goodpay Ltd", remittance="INV-G3"),
        Line("W2", date(2026, 11, 18), "5000.00", payer="Risky Inc", remittance=""),
        Line("W3", date(2026, 11, 20), "12.34", payer="", remittance="INTEREST"),
    ]
    path = tmp_path / "stmt.csv"
    path.write_text(csv_text(lines))
    new = import_statements(jdeps, [path]).new_ids
    rule = ToolDeps(
        jdeps.settings.model_copy(update={"cash_auto_apply_confidence": 0.97}),
        jdeps.engine,
        jdeps.sessions,
    )
    auto = auto_apply(rule, new, now=datetime(2026, 11, 18, 9, tzinfo=UTC))
    assert [a.allocations[0].amount_minor for a in auto] == [700000]
    with jdeps.sessions() as s:
        w2 = s.execute(select(BankTxn.id).where(BankTxn.external_id == "W2")).scalar_one()
    apply(jdeps, w2, "UAPPROVE1", now=datetime(2026, 11, 19, 9, tzinfo=UTC))
    assert run_job(jdeps, "weekly-digest", now=MONDAY, client=client)
    [top] = [c for c in fake_slack.calls("chat.postMessage") if not c.params.get("thread_ts")]
    assert (
        "*Cash received* USD 12,012.34 · applied automatically USD 7,000.00 · "
        "by hand USD 5,000.00 · still unapplied USD 112.34"
    ) in top.all_text
