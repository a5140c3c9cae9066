"""The auto-apply rule writes only what reached its threshold, and only for a person allowed
to apply: `arbot bank import` with ARBOT_CASH_AUTO_APPLY_CONFIDENCE set checks the OS user
as `arbot cash apply` does, and the audit names the finance user behind the rule."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from db.bank_models import BankTxn
from db.models import AuditLog, Payment
from tests.cash.conftest import FINANCE, ME
from tests.cash.ledger import write_ledger
from tests.cash.statements import Line, csv_text
from tests.cash.test_cash_guards import _import, _rule, _txn_ids, apply_rule
from tests.cli_helpers import arbot
from tools.cash_apply import AUTO, CashRefused, apply
from tools.deps import ToolDeps

TWICE = [
    Line("D1", date(2026, 11, 2), "1000.00", payer="Acme Corporation", remittance="INV-001236"),
    Line("D2", date(2026, 11, 3), "1000.00", payer="Acme Corporation", remittance="INV-001236"),
]


def _bank_payments(deps: ToolDeps) -> list[tuple[str, int | None, int]]:
    with deps.sessions() as s:
        rows = s.execute(
            select(Payment.external_id, Payment.invoice_id, Payment.amount_minor)
            .where(Payment.source == "bank")
            .order_by(Payment.external_id)
        )
        return [(str(e), i, int(a)) for e, i, a in rows]


def test_a_second_identical_line_is_left_for_a_person_not_made_unapplied_cash(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import(tmp_path, capsys, TWICE)
    assert apply_rule(_rule(deps, 0.95), _txn_ids(deps)) == {"D1"}
    assert [p[0] for p in _bank_payments(deps)] == ["ACC-1/D1/001236"]
    with deps.sessions() as s:
        assert s.scalar(select(BankTxn.status).where(BankTxn.external_id == "D2")) == "unapplied"


def test_the_rule_refuses_a_suggestion_below_its_threshold(
    deps: ToolDeps, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _import(tmp_path, capsys, TWICE[:1])
    ids = _txn_ids(deps)
    with pytest.raises(CashRefused, match="at or above its threshold"):
        apply(_rule(deps, 0.995), ids["D1"], AUTO, how="auto")
    assert _bank_payments(deps) == []


def _import_with_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    monkeypatch.setenv("ARBOT_CASH_AUTO_APPLY_CONFIDENCE", "0.9")
    assert arbot(capsys, "import", str(write_ledger(tmp_path / "l"))).code == 0
    path = tmp_path / "s.csv"
    path.write_text(csv_text(TWICE[:1]))
    run = arbot(capsys, "bank", "import", str(path))
    return run.code, run.out, run.err


def test_an_import_by_someone_not_mapped_is_kept_but_nothing_applied(
    deps: ToolDeps,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARBOT_CLI_SLACK_USERS", "someone_else=U0OTHER1")
    code, out, err = _import_with_rule(tmp_path, capsys, monkeypatch)
    assert code == 0, err
    assert "1 new" in out
    assert "imported but none applied automatically" in err
    assert f"OS user {ME} is not mapped to a Slack user" in err
    assert _bank_payments(deps) == []
    with deps.sessions() as s:
        assert s.scalar(select(BankTxn.status)) == "unapplied"


def test_an_import_by_a_finance_user_applies_and_the_audit_names_them(
    deps: ToolDeps,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, err = _import_with_rule(tmp_path, capsys, monkeypatch)
    assert code == 0, err
    assert "1 line(s) applied by ARBOT_CASH_AUTO_APPLY_CONFIDENCE" in out
    with deps.sessions() as s:
        audit = s.scalars(select(AuditLog).where(AuditLog.event == "cash_applied")).one()
    assert audit.actor == AUTO
    assert audit.after is not None
    assert audit.after["on_behalf_of"] == f"cli:{ME}"
    assert audit.after["slack_user"] == FINANCE
