"""A proposal from the command line is the OS user's, said so on the card, and never a Slack
user's typed on the command line: nobody approves their own proposal by naming someone else.

`arbot propose` and `arbot ask` run in-process on the test ledger as the OS user running the
tests, with LOGNAME and USER naming someone else (they must not count); approvals are signed
clicks into the real Bolt app.
"""

from __future__ import annotations

import os
import pwd

import pytest

from bot.blocks.ids import ActionId, CardRef
from bot.cli import main
from tests.approvals.conftest import APPROVALS_CHANNEL, APPROVER, APPROVER_2, SlackEnv
from tests.approvals.test_slack_approvals import click, ephemeral, last_card
from tests.cli_helpers import arbot
from tests.fakes.slack_api import FakeSlack
from tools import actions
from tools.settings import Settings

ME = pwd.getpwuid(os.geteuid()).pw_name  # the OS user running the tests
IMPOSTOR = "nobody" if ME != "nobody" else "daemon"


@pytest.fixture
def ap_settings(ap_settings: Settings) -> Settings:
    """The approvers know that this OS user is APPROVER in Slack (and the impostor APPROVER_2)."""
    users = [f"{ME}={APPROVER}", f"{IMPOSTOR}={APPROVER_2}"]
    return ap_settings.model_copy(update={"cli_slack_users": users})


def _cli(monkeypatch: pytest.MonkeyPatch, settings: Settings, fake_slack: FakeSlack) -> None:
    monkeypatch.setenv("ARBOT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    monkeypatch.setenv("ARBOT_SLACK_API_URL", fake_slack.base_url)
    monkeypatch.setenv("ARBOT_APPROVALS_CHANNEL", APPROVALS_CHANNEL)
    monkeypatch.setenv("LOGNAME", IMPOSTOR)  # names anyone: never trusted
    monkeypatch.setenv("USER", IMPOSTOR)


def test_requested_by_no_longer_names_the_proposer(
    slack_env: SlackEnv,
    ap_settings: Settings,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _cli(monkeypatch, ap_settings, fake_slack)
    run = arbot(capsys, "propose", "dunning", "--customer", "Acme", "--requested-by", APPROVER_2)
    assert run.code == 2 and "--requested-by is no longer accepted" in run.err
    assert f"recorded as proposed by your OS user (cli:{ME})" in run.err
    assert fake_slack.calls("chat.postMessage") == []


def test_a_cli_proposal_is_the_os_users_and_they_cannot_approve_it_in_slack(
    slack_env: SlackEnv,
    ap_settings: Settings,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _cli(monkeypatch, ap_settings, fake_slack)
    assert main(["propose", "dunning", "--customer", "Acme", "--invoice", "INV-A1"]) == 0
    printed = capsys.readouterr().out
    assert f"Proposed from the command line by OS user {ME}" in printed
    post = fake_slack.wait_for("chat.postMessage")[-1]
    assert f"Proposed from the command line by OS user {ME}" in post.all_text
    [a] = [actions.load(slack_env.deps, CardRef.parse(e["value"]).action_id)
           for b in post.blocks if b["type"] == "actions" for e in b["elements"]
           if e["action_id"] == ActionId.APPROVE]  # fmt: skip
    assert a.proposed_by == f"cli:{ME}"
    ts = str(a.slack_ts)
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER)  # this OS user, in Slack
    assert "You proposed or edited this draft" in ephemeral(slack_env)[0]
    assert actions.load(slack_env.deps, a.id).status == "proposed"
    click(slack_env, ActionId.APPROVE, a, ts, APPROVER_2)
    assert f"Approved by <@{APPROVER_2}>" in last_card(slack_env, 1)


def test_an_ask_proposal_is_the_os_users_too(
    slack_env: SlackEnv,
    ap_settings: Settings,
    fake_slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _cli(monkeypatch, ap_settings, fake_slack)
    run = arbot(capsys, "ask", "--no-agent", "write off INV-G1 because the customer went bankrupt")
    assert run.code == 0, run.err
    assert f"Proposed from the command line by OS user {ME}" in run.out
    post = fake_slack.wait_for("chat.postMessage")[-1]
    [a] = [actions.load(slack_env.deps, CardRef.parse(e["value"]).action_id)
           for b in post.blocks if b["type"] == "actions" for e in b["elements"]
           if e["action_id"] == ActionId.APPROVE]  # fmt: skip
    assert a.proposed_by == f"cli:{ME}"
    click(slack_env, ActionId.APPROVE, a, str(a.slack_ts), APPROVER)
    assert "You proposed or edited this draft" in ephemeral(slack_env)[0]
