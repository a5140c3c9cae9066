"""An alert claimed by a run that then failed or died is posted by a later run, once; one a
live run holds right now is left to it."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from slack_sdk import WebClient

from db.jobs import insert_claim
from jobs.runner import run_job
from tests.fakes.slack_api import FakeSlack
from tests.jobs import ledger
from tests.jobs.conftest import ALERTS, APPROVALS
from tests.jobs.ledger import MONDAY, OWNER
from tools.deps import ToolDeps
from tools.settings import SettingsError
from tools.watch import RISK_ALERT_JOB

TUESDAY = MONDAY + timedelta(days=1)
LEASE = timedelta(hours=1)  # jobs.claim.LEASE, written out so the test predates it


def _texts(fake: FakeSlack, channel: str) -> list[str]:
    return [c.all_text for c in fake.calls("chat.postMessage") if c.params["channel"] == channel]


def _without_slack(deps: ToolDeps) -> ToolDeps:
    """The same ledger, but no Slack client can be made (no bot token): the run fails after
    claiming its posts and before posting them."""
    return replace(deps, settings=deps.settings.model_copy(update={"slack_bot_token": None}))


def _risky(deps: ToolDeps) -> str:
    ledger.failed_payment(deps, "R1", TUESDAY - timedelta(hours=3), "fail-1")
    return f"customer:{ledger.customer_id(deps, 'RISKY')}"


def test_at_risk_alert_claimed_by_a_failed_run_is_posted_next_run(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    _risky(jdeps)
    with pytest.raises(SettingsError):
        run_job(_without_slack(jdeps), "at-risk-scan", now=TUESDAY)
    assert _texts(fake_slack, ALERTS) == []
    wednesday = TUESDAY + timedelta(days=1)
    assert run_job(jdeps, "at-risk-scan", now=wednesday, client=client) == [
        ledger.customer_id(jdeps, "RISKY")
    ]
    assert run_job(jdeps, "at-risk-scan", now=wednesday + timedelta(days=1), client=client) == []
    for target in (ALERTS, OWNER):
        texts = _texts(fake_slack, target)
        assert len(texts) == 1 and "Risky Inc" in texts[0]


def test_dunning_cards_claimed_by_a_failed_run_are_posted_next_run(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    with pytest.raises(SettingsError):
        run_job(_without_slack(jdeps), "dunning", now=MONDAY)
    assert _texts(fake_slack, APPROVALS) == []
    assert len(run_job(jdeps, "dunning", now=MONDAY + timedelta(minutes=5), client=client)) == 3
    assert run_job(jdeps, "dunning", now=MONDAY + timedelta(minutes=10), client=client) == []
    cards = _texts(fake_slack, APPROVALS)
    for number in ("INV-D1", "INV-D2", "INV-R1"):
        assert sum(number in c for c in cards) == 1, number


def test_alert_left_running_by_a_killed_run_is_retaken_after_the_lease(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    period = _risky(jdeps)
    # what a process killed between claiming and posting leaves behind
    insert_claim(jdeps.engine, RISK_ALERT_JOB, period, TUESDAY - 2 * LEASE, None)
    assert run_job(jdeps, "at-risk-scan", now=TUESDAY, client=client) == [
        ledger.customer_id(jdeps, "RISKY")
    ]
    assert run_job(jdeps, "at-risk-scan", now=TUESDAY + timedelta(days=1), client=client) == []
    texts = _texts(fake_slack, ALERTS)
    assert len(texts) == 1 and "Risky Inc" in texts[0]


def test_alert_a_live_run_is_posting_is_left_to_it(
    jdeps: ToolDeps, fake_slack: FakeSlack, client: WebClient
) -> None:
    period = _risky(jdeps)
    # another worker claimed it ten minutes ago and is still posting (Slack's Retry-After)
    insert_claim(jdeps.engine, RISK_ALERT_JOB, period, TUESDAY - timedelta(minutes=10), None)
    assert run_job(jdeps, "at-risk-scan", now=TUESDAY, client=client) == []
    assert _texts(fake_slack, ALERTS) == []
