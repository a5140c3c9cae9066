"""The `cash-cards` job: bank lines waiting for a decision that no card shows yet are posted
as grouped cards, once, whatever runs at the same time (two workers, `arbot bank import`),
and a post Slack refused is made by the next run."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select

from db.bank_models import BankTxn
from jobs.runner import run_job
from tests.cash.statements import Line, csv_text
from tests.fakes.slack_api import FakeSlack
from tests.jobs.conftest import APPROVALS
from tools.bank_import import import_statements
from tools.deps import ToolDeps

NOW = datetime(2026, 11, 20, 9, tzinfo=UTC)
FIRST = [
    Line("W1", date(2026, 11, 17), "7000.00", payer="Goodpay Ltd", remittance="INV-G3"),
    Line("W2", date(2026, 11, 18), "12.34", payer="", remittance="INTEREST"),
]
SECOND = [Line("W3", date(2026, 11, 19), "55.00", payer="Risky Inc", remittance="")]


def _import(deps: ToolDeps, tmp_path: Path, name: str, lines: list[Line]) -> None:
    path = tmp_path / name
    path.write_text(csv_text(lines))
    import_statements(deps, [path], progress=False)


def _cards(fake_slack: FakeSlack) -> list[str]:
    return [c.all_text for c in fake_slack.calls("chat.postMessage")]


def _carded(deps: ToolDeps) -> dict[str, bool]:
    with deps.sessions() as s:
        rows = s.execute(select(BankTxn.external_id, BankTxn.slack_ts)).all()
    return {str(e): ts is not None for e, ts in rows}


def test_two_workers_card_each_waiting_line_once_grouped_per_statement(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient, tmp_path: Path
) -> None:
    _import(jdeps, tmp_path, "first.csv", FIRST)
    results: list[object] = []
    workers = [
        threading.Thread(
            target=lambda: results.append(run_job(jdeps, "cash-cards", now=NOW, client=client))
        )
        for _ in range(2)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert sorted(len(r) for r in results if isinstance(r, list)) == [0, 2]
    [card] = _cards(fake_slack)
    assert fake_slack.calls("chat.postMessage")[0].params["channel"] == APPROVALS
    assert "USD 7,000.00* from Goodpay Ltd" in card and "USD 12.34* from _unknown payer_" in card
    assert run_job(jdeps, "cash-cards", now=NOW + timedelta(minutes=10), client=client) == []
    _import(jdeps, tmp_path, "second.csv", SECOND)
    assert len(run_job(jdeps, "cash-cards", now=NOW + timedelta(minutes=20), client=client)) == 1
    cards = _cards(fake_slack)
    assert len(cards) == 2 and "Risky Inc" in cards[1] and "Goodpay" not in cards[1]
    assert _carded(jdeps) == {"W1": True, "W2": True, "W3": True}


def test_a_post_slack_refused_is_made_by_the_next_run(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient, tmp_path: Path
) -> None:
    _import(jdeps, tmp_path, "first.csv", FIRST)
    fake_slack.fail_next("chat.postMessage", status=500, retry_after=None, error="internal_error")
    with pytest.raises(SlackApiError):
        run_job(jdeps, "cash-cards", now=NOW, client=client)
    assert _carded(jdeps) == {"W1": False, "W2": False}
    assert len(run_job(jdeps, "cash-cards", now=NOW + timedelta(minutes=10), client=client)) == 2
    assert len(_cards(fake_slack)) == 1
    assert _carded(jdeps) == {"W1": True, "W2": True}


def test_lines_decided_before_the_run_get_no_card(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient, tmp_path: Path
) -> None:
    from tools.cash_apply import leave

    _import(jdeps, tmp_path, "first.csv", FIRST)
    with jdeps.sessions() as s:
        w2 = s.execute(select(BankTxn.id).where(BankTxn.external_id == "W2")).scalar_one()
    leave(jdeps, w2, "UAPPROVE1")
    assert len(run_job(jdeps, "cash-cards", now=NOW, client=client)) == 1
    [card] = _cards(fake_slack)
    assert "Goodpay" in card and "INTEREST" not in card
