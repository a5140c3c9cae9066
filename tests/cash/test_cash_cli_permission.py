"""`arbot cash apply` obeys the rule for a click on a card: only a finance user or an approver
may apply, and the OS user counts as the Slack user ARBOT_CLI_SLACK_USERS maps them to.
Anyone else is refused with exit 2 and nothing is written; the audit names both."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.bank_models import BankTxn
from db.models import AuditLog, Payment
from tests.cash.conftest import FINANCE, ME
from tests.cash.ledger import write_ledger
from tests.cash.statements import Line, csv_text
from tests.cli_helpers import arbot
from tools.deps import ToolDeps

LINES = [Line("W1", date(2026, 11, 2), "8000.00", payer="ACME CORP", remittance="INV-001234")]


@pytest.fixture
def statement(deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert arbot(capsys, "import", str(write_ledger(tmp_path / "l"))).code == 0
    path = tmp_path / "stmt.csv"
    path.write_text(csv_text(LINES))
    assert arbot(capsys, "bank", "import", str(path)).code == 0


def _nothing_written(deps: ToolDeps) -> None:
    with deps.sessions() as s:
        assert (
            s.scalar(select(func.count()).select_from(Payment).where(Payment.source == "bank")) == 0
        )
        assert s.scalar(select(func.count()).select_from(AuditLog).where(
            AuditLog.event.in_(["cash_applied", "cash_left_unapplied"]))) == 0  # fmt: skip
        assert s.scalar(select(BankTxn.status)) == "unapplied"


@pytest.mark.parametrize("leave", [False, True])
def test_an_os_user_mapped_to_nobody_is_refused(
    statement: None,
    deps: ToolDeps,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    leave: bool,
) -> None:
    monkeypatch.setenv("ARBOT_CLI_SLACK_USERS", "someone_else=U0OTHER1")
    run = arbot(capsys, "cash", "apply", "--txn", "W1", *(["--leave"] if leave else []))
    assert run.code == 2
    assert f"OS user {ME} is not mapped to a Slack user" in run.err
    assert "ARBOT_CLI_SLACK_USERS" in run.err and "Nothing was written." in run.err
    _nothing_written(deps)


def test_an_os_user_mapped_to_someone_off_the_team_is_refused(
    statement: None,
    deps: ToolDeps,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ARBOT_CLI_SLACK_USERS", f"{ME}=U0SALES01")
    run = arbot(capsys, "cash", "apply", "--txn", "W1")
    assert run.code == 2
    assert f"OS user {ME} is Slack user U0SALES01, who is neither a finance user" in run.err
    _nothing_written(deps)


def test_an_approver_may_apply_and_the_audit_names_the_slack_user(
    statement: None,
    deps: ToolDeps,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("ARBOT_CLI_SLACK_USERS", f"{ME}=U0APPROVR")
    monkeypatch.setenv("ARBOT_APPROVERS", "U0APPROVR")
    run = arbot(capsys, "cash", "apply", "--txn", "W1")
    assert run.code == 0, run.err
    with deps.sessions() as s:
        [audit] = s.execute(select(AuditLog).where(AuditLog.event == "cash_applied")).scalars()
        assert audit.actor == f"cli:{ME}"
        assert audit.after["slack_user"] == "U0APPROVR"


def test_a_finance_user_may_leave_a_line_and_the_audit_names_them(
    statement: None, deps: ToolDeps, capsys: pytest.CaptureFixture[str]
) -> None:
    assert arbot(capsys, "cash", "apply", "--txn", "W1", "--leave").code == 0
    with deps.sessions() as s:
        [audit] = s.execute(
            select(AuditLog).where(AuditLog.event == "cash_left_unapplied")
        ).scalars()
        assert (audit.actor, audit.after["slack_user"]) == (f"cli:{ME}", FINANCE)
